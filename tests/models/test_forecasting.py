import keras
import numpy as np
import pytest

from models.forecasting import LastValue, forecaster
from models.recurrent import RecurrentSpec


def zero_head(model):
    dense = model.get_layer("normalized_forecast")
    dense.set_weights([np.zeros_like(w) for w in dense.get_weights()])


def test_change_mode_starts_from_the_last_value_in_raw_units():
    model = forecaster(
        5, 2, 3, mean=[10.0, 0.0], std=[2.0, 1.0], target_index=1, recurrent=RecurrentSpec(units=4)
    )
    zero_head(model)
    windows = np.random.default_rng(0).normal(size=(4, 5, 2)).astype("float32") * 50
    np.testing.assert_allclose(model(windows).numpy(), np.repeat(windows[:, -1, 1:2], 3, axis=1))


def test_the_model_takes_the_name_given():
    model = forecaster(4, 1, 1, mean=[0.0], std=[1.0], name="sunspots_lstm_forecaster")
    assert model.name == "sunspots_lstm_forecaster"


def test_level_mode_denormalizes_with_training_statistics():
    model = forecaster(
        5, 1, 2, mean=[10.0], std=[2.0], predict_change=False, recurrent=RecurrentSpec(units=4)
    )
    dense = model.get_layer("normalized_forecast")
    kernel, bias = dense.get_weights()
    dense.set_weights([np.zeros_like(kernel), np.array([1.0, -0.5], "float32")])
    np.testing.assert_allclose(model(np.zeros((1, 5, 1), "float32")).numpy(), [[12.0, 9.0]])


def test_change_mode_also_sees_steps_relative_to_the_last_in_change_units():
    model = forecaster(
        3, 1, 1, mean=[0.0], std=[1.0], change_std=[0.5], recurrent=RecurrentSpec(units=2)
    )
    relative = keras.Model(model.input, model.get_layer("relative_to_last").output)
    window = np.array([[[10.0], [11.0], [12.0]]], "float32")
    np.testing.assert_allclose(relative(window).numpy()[0, :, 0], [-4.0, -2.0, 0.0])
    assert model.get_layer("level_and_change").output.shape == (None, 3, 2)


def test_normalization_uses_the_given_statistics():
    model = forecaster(3, 1, 1, mean=[5.0], std=[2.0], recurrent=RecurrentSpec(units=2))
    normalize = keras.Model(model.input, model.get_layer("normalize").output)
    np.testing.assert_allclose(normalize(np.full((1, 3, 1), 9.0, "float32")).numpy(), 2.0)


def test_saves_and_reloads(tmp_path):
    model = forecaster(4, 1, 2, mean=[1.0], std=[3.0], recurrent=RecurrentSpec("gru", 3))
    windows = np.random.default_rng(1).normal(size=(2, 4, 1)).astype("float32")
    model.save(tmp_path / "f.keras")
    reloaded = keras.saving.load_model(tmp_path / "f.keras")
    np.testing.assert_allclose(reloaded(windows).numpy(), model(windows).numpy(), atol=1e-6)
    assert LastValue.from_config(LastValue(2).get_config()).index == 2


def test_bad_arguments():
    with pytest.raises(ValueError, match="Received std=\\[0.0\\]"):
        forecaster(3, 1, 1, mean=[0.0], std=[0.0])
    with pytest.raises(ValueError, match="one value per feature \\(2\\)"):
        forecaster(3, 2, 1, mean=[0.0], std=[1.0])
    with pytest.raises(ValueError, match="Received change_std=\\[0.0\\]"):
        forecaster(3, 1, 1, mean=[0.0], std=[1.0], change_std=[0.0])
    with pytest.raises(ValueError, match="Received target_index=2"):
        forecaster(3, 2, 1, mean=[0, 0], std=[1, 1], target_index=2)
    with pytest.raises(ValueError, match="Received horizon=0"):
        forecaster(3, 1, 0, mean=[0.0], std=[1.0])
