import keras
import numpy as np
import pytest

from models.diagnostics import timestep_gradient_norms


def test_norms_equal_the_analytic_gradient_of_a_linear_model():
    # y = sum_t sum_f w_f * x[t, f]; loss = mean((y - 0)^2) -> dL/dx_t = 2 y w / batch.
    inputs = keras.Input((5, 3))
    model = keras.Model(
        inputs, keras.layers.Dense(1, use_bias=False)(keras.layers.Flatten()(inputs))
    )
    weights = np.arange(15, dtype="float32").reshape(15, 1) / 10
    model.layers[-1].set_weights([weights])
    x = np.random.default_rng(0).normal(size=(4, 5, 3)).astype("float32")
    y = x.reshape(4, 15) @ weights
    norms = timestep_gradient_norms(model, x, np.zeros((4, 1), "float32"))
    gradient = (2 * y[:, :, None] / 4) * weights.reshape(1, 5, 3)
    np.testing.assert_allclose(norms, np.sqrt((gradient**2).sum(axis=(0, 2))), rtol=1e-5)


def test_rejects_non_sequence_inputs():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="rank 3"):
        timestep_gradient_norms(model, np.zeros((2, 3)), np.zeros((2, 1)))
