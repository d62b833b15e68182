import keras
import numpy as np
import pytest

from models.conv_front import ConvSpec
from models.forecasting import LastValue, forecaster
from models.layers import Conv1D
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


def conv_forecaster(predict_change=True, layers=1):
    keras.utils.set_random_seed(0)
    return forecaster(
        8,
        2,
        3,
        mean=[1.0, -1.0],
        std=[2.0, 0.5],
        recurrent=RecurrentSpec(units=4),
        conv=ConvSpec(filters=5, kernel_size=3, layers=layers),
        predict_change=predict_change,
    )


def test_conv_front_is_our_causal_conv1d_read_by_the_recurrent_stack():
    model = conv_forecaster()
    conv = model.get_layer("conv1d_1")
    assert isinstance(conv, Conv1D) and conv.padding == "causal"
    # level and change of 2 features: 4 channels in, the window's 8 steps kept
    assert conv.output.shape == (None, 8, 5)
    assert conv.count_params() == 3 * 4 * 5 + 5
    assert model.get_layer("lstm_1").cell.kernel.shape == (5, 4 * 4)
    windows = np.random.default_rng(0).normal(size=(6, 8, 2)).astype("float32")
    assert model(windows).shape == (6, 3)


@pytest.mark.parametrize("predict_change", [True, False])
@pytest.mark.parametrize("layers", [1, 2])
def test_conv_features_at_a_step_see_no_later_step(predict_change, layers):
    model = conv_forecaster(predict_change, layers)
    features = keras.Model(model.input, model.get_layer(f"conv1d_{layers}").output)
    windows = np.random.default_rng(1).normal(size=(4, 8, 2)).astype("float32")
    changed = windows.copy()
    changed[:, 5] += 3.0  # a later step, not the last (the change mode reads the last one)
    before, after = features(windows).numpy(), features(changed).numpy()
    np.testing.assert_array_equal(after[:, :5], before[:, :5])
    assert np.abs(after[:, 5:] - before[:, 5:]).max() > 1e-3


def test_conv_forecaster_saves_and_reloads(tmp_path):
    model = conv_forecaster(layers=2)
    windows = np.random.default_rng(2).normal(size=(2, 8, 2)).astype("float32")
    model.save(tmp_path / "f.keras")
    reloaded = keras.saving.load_model(tmp_path / "f.keras")
    np.testing.assert_allclose(reloaded(windows).numpy(), model(windows).numpy(), atol=1e-6)
