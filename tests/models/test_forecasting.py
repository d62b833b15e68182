import keras
import numpy as np
import pytest

from models.conv_front import ConvSpec
from models.forecasting import LastValue, ReservoirSpec, forecaster, to_naive
from models.layers import Conv1D
from models.layers.echo_state import EchoState
from models.recurrent import RecurrentSpec


def test_change_mode_starts_from_the_last_value_in_raw_units():
    # the change layer starts at zero: an untrained forecaster is the naive one
    model = forecaster(
        5, 2, 3, mean=[10.0, 0.0], std=[2.0, 1.0], target_index=1, recurrent=RecurrentSpec(units=4)
    )
    windows = np.random.default_rng(0).normal(size=(4, 5, 2)).astype("float32") * 50
    np.testing.assert_array_equal(model(windows).numpy(), np.repeat(windows[:, -1, 1:2], 3, axis=1))


def test_to_naive_sets_a_trained_correction_back_to_the_last_value():
    model = forecaster(4, 1, 2, mean=[0.0], std=[1.0], recurrent=RecurrentSpec(units=3))
    dense = model.get_layer("normalized_forecast")
    dense.set_weights([np.full_like(w, 0.5) for w in dense.get_weights()])
    windows = np.random.default_rng(3).normal(size=(5, 4, 1)).astype("float32") + 20
    last = np.repeat(windows[:, -1, :], 2, axis=1)
    assert np.abs(model(windows).numpy() - last).min() > 0.01  # the correction is on
    assert to_naive(model) is model
    np.testing.assert_array_equal(model(windows).numpy(), last)


def test_to_naive_needs_a_change_predicting_forecaster():
    level = forecaster(4, 1, 1, mean=[0.0], std=[1.0], predict_change=False)
    with pytest.raises(ValueError, match="predict_change=True"):
        to_naive(level)


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


def test_change_mode_sees_steps_relative_to_the_last_in_change_units():
    model = forecaster(
        3, 1, 1, mean=[0.0], std=[1.0], change_std=[0.5], recurrent=RecurrentSpec(units=2)
    )
    relative = keras.Model(model.input, model.get_layer("relative_to_last").output)
    window = np.array([[[10.0], [11.0], [12.0]]], "float32")
    np.testing.assert_allclose(relative(window).numpy()[0, :, 0], [-4.0, -2.0, 0.0])
    # no level input by default: shifting a window shifts its forecast by as much
    names = {layer.name for layer in model.layers}
    assert "normalize" not in names and "level_and_change" not in names
    assert model.get_layer("lstm_1").cell.kernel.shape == (1, 4 * 2)
    dense = model.get_layer("normalized_forecast")
    dense.set_weights([np.full_like(w, 0.3) for w in dense.get_weights()])
    np.testing.assert_allclose(model(window + 100.0).numpy(), model(window).numpy() + 100.0)


def test_level_inputs_add_the_normalized_level_before_the_change():
    model = forecaster(
        3, 1, 1, mean=[5.0], std=[2.0], level_inputs=True, recurrent=RecurrentSpec(units=2)
    )
    both = keras.Model(model.input, model.get_layer("level_and_change").output)
    window = np.full((1, 3, 1), 9.0, "float32")
    np.testing.assert_allclose(both(window).numpy()[0], [[2.0, 0.0]] * 3)


def test_normalization_uses_the_given_statistics():
    model = forecaster(
        3, 1, 1, mean=[5.0], std=[2.0], predict_change=False, recurrent=RecurrentSpec(units=2)
    )
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
    # the change of 2 features: 2 channels in, the window's 8 steps kept
    assert conv.output.shape == (None, 8, 5)
    assert conv.count_params() == 3 * 2 * 5 + 5
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


def esn_forecaster(units=30, seed=4):
    return forecaster(
        6, 1, 1, mean=[0.0], std=[1.0], recurrent=ReservoirSpec(units=units, seed=seed)
    )


def test_the_reservoir_is_fixed_and_only_the_readout_trains():
    keras.utils.set_random_seed(0)
    model = esn_forecaster()
    reservoir = model.get_layer("echo_state")
    assert isinstance(reservoir, EchoState) and not reservoir.trainable
    assert reservoir.cell.kernel.shape == (1, 30)  # the change of one column
    readout = model.get_layer("normalized_forecast")
    assert [w.path for w in model.trainable_weights] == [w.path for w in readout.weights]
    assert model.count_params() - readout.count_params() == 1 * 30 + 30 * 30 + 30
    # a sine: one step ahead is a linear function of the reservoir's state
    t = np.arange(400, dtype="float32")
    wave = np.sin(2 * np.pi * t / 20)
    inputs = np.stack([wave[i : i + 6] for i in range(390)])[..., np.newaxis]
    targets = wave[6:396, np.newaxis]
    fixed = [w.numpy().copy() for w in reservoir.weights]
    model.compile(keras.optimizers.Adam(0.05), loss="mse")
    naive_mse = float(np.mean((inputs[:, -1] - targets) ** 2))
    model.fit(inputs, targets, epochs=15, batch_size=128, verbose=0)
    for before, after in zip(fixed, reservoir.weights):
        np.testing.assert_array_equal(after.numpy(), before)
    assert np.abs(readout.get_weights()[0]).max() > 0.01  # the readout moved from zero
    trained_mse = float(np.mean((model.predict(inputs, verbose=0) - targets) ** 2))
    assert trained_mse < 0.1 * naive_mse  # naive lags the sine by a step: MSE 0.0489


def test_the_reservoir_is_drawn_from_its_seed_and_survives_saving(tmp_path):
    windows = np.random.default_rng(5).normal(size=(3, 6, 1)).astype("float32")
    a, b, c = esn_forecaster(seed=1), esn_forecaster(seed=1), esn_forecaster(seed=2)
    kernel = a.get_layer("echo_state").cell.recurrent_kernel.numpy()
    np.testing.assert_array_equal(b.get_layer("echo_state").cell.recurrent_kernel.numpy(), kernel)
    assert not np.allclose(c.get_layer("echo_state").cell.recurrent_kernel.numpy(), kernel)
    readout = a.get_layer("normalized_forecast")
    readout.set_weights([np.full_like(w, 0.1) for w in readout.get_weights()])
    a.save(tmp_path / "esn.keras")
    reloaded = keras.saving.load_model(tmp_path / "esn.keras")
    np.testing.assert_allclose(reloaded(windows).numpy(), a(windows).numpy(), atol=1e-6)


def test_bad_reservoir_arguments_are_named():
    with pytest.raises(ValueError, match="Received units=0"):
        ReservoirSpec(units=0)
    with pytest.raises(ValueError, match="Received leak_rate=0.0"):
        ReservoirSpec(leak_rate=0.0)
    with pytest.raises(ValueError, match="Received spectral_radius=-1"):
        ReservoirSpec(spectral_radius=-1)
