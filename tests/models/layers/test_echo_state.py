import keras
import numpy as np
import pytest

from models.layers import EchoState, EchoStateCell, reservoir_matrix


def mackey_glass(n, tau=17, beta=0.2, gamma=0.1, power=10, warmup=500, seed=0):
    """The Mackey-Glass delay series (tau=17: chaotic), Euler steps of 0.1, sampled at 1."""
    per_unit = 10
    delay = tau * per_unit
    total = (n + warmup) * per_unit
    x = np.empty(total + delay)
    x[: delay + 1] = 1.2 + 0.01 * np.random.default_rng(seed).normal(size=delay + 1)
    for t in range(delay, total + delay - 1):
        delayed = x[t - delay]
        x[t + 1] = x[t] + 0.1 * (beta * delayed / (1 + delayed**power) - gamma * x[t])
    return x[delay::per_unit][warmup : warmup + n]


@pytest.mark.parametrize(("radius", "sparsity"), [(0.9, 0.9), (0.5, 0.0), (1.2, 0.75)])
def test_reservoir_has_the_requested_spectral_radius_and_sparsity(radius, sparsity):
    weights = reservoir_matrix(120, radius, sparsity, seed=7)
    assert abs(np.max(np.abs(np.linalg.eigvals(weights))) - radius) < 1e-3
    assert np.mean(weights == 0) == pytest.approx(sparsity, abs=1 / 120**2)


def test_layer_reservoir_matches_its_arguments_and_is_reproducible():
    layer = EchoState(80, spectral_radius=0.7, sparsity=0.8, seed=3)
    layer(np.zeros((1, 5, 2), "float32"))
    kernel, recurrent, bias = layer.get_weights()
    assert kernel.shape == (2, 80) and np.abs(kernel).max() <= 1.0
    assert abs(np.max(np.abs(np.linalg.eigvals(recurrent))) - 0.7) < 1e-3
    assert np.mean(recurrent == 0) == pytest.approx(0.8, abs=1e-3)
    assert not bias.any()  # bias_scaling=0
    again = EchoState(80, spectral_radius=0.7, sparsity=0.8, seed=3)
    again(np.zeros((1, 5, 2), "float32"))
    np.testing.assert_array_equal(again.get_weights()[1], recurrent)


def test_leaky_update_follows_the_equation():
    cell = EchoStateCell(6, leak_rate=0.3, bias_scaling=0.1, seed=0)
    x = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
    h = np.random.default_rng(1).normal(size=(2, 6)).astype("float32")
    cell.build((None, 3))
    out, _ = cell(x, [h])
    w_in, w, b = cell.get_weights()
    expected = 0.7 * h + 0.3 * np.tanh(x @ w_in + h @ w + b)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_reservoir_stays_fixed_and_only_the_readout_learns():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((20, 1))
    reservoir = EchoState(50, seed=0, return_sequences=True)
    model = keras.Model(inputs, keras.layers.Dense(1)(reservoir(inputs)))
    assert reservoir.trainable_weights == [] and len(reservoir.non_trainable_weights) == 3
    assert len(model.trainable_weights) == 2  # the readout's kernel and bias
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    x = np.sin(np.linspace(0, 20, 21 * 32)).reshape(32, 21, 1).astype("float32")
    before = [w.copy() for w in reservoir.get_weights()]
    untrained = model.evaluate(x[:, :-1], x[:, 1:], verbose=0)
    history = model.fit(x[:, :-1], x[:, 1:], epochs=30, batch_size=4, verbose=0)
    for old, new in zip(before, reservoir.get_weights()):
        np.testing.assert_array_equal(old, new)
    # Measured over readout seeds 0-4: final MSE 0.0006-0.0014 (untrained 0.02-1.9).
    assert history.history["loss"][-1] < 0.01
    assert history.history["loss"][-1] < untrained


def test_echo_state_network_predicts_mackey_glass_next_step():
    series = mackey_glass(2000)
    series = (series - series.mean()) / series.std()
    layer = EchoState(
        200,
        spectral_radius=0.9,
        sparsity=0.9,
        input_scaling=0.5,
        bias_scaling=0.2,
        seed=0,
        return_sequences=True,
    )
    states = layer(series[None, :-1, None].astype("float32")).numpy()[0]
    targets = series[1:]
    washout, split = 100, 1500
    features = np.hstack([states, np.ones((len(states), 1))])
    train_x, train_y = features[washout:split], targets[washout:split]
    # Ridge-regression readout: the only trained part.
    readout = np.linalg.solve(
        train_x.T @ train_x + 1e-6 * np.eye(train_x.shape[1]), train_x.T @ train_y
    )
    predictions = features[split:] @ readout
    scale = np.std(targets[split:])
    nrmse = np.sqrt(np.mean((predictions - targets[split:]) ** 2)) / scale
    naive = np.sqrt(np.mean((series[split:-1] - targets[split:]) ** 2)) / scale
    assert nrmse < 0.01, nrmse  # measured 0.0004
    assert nrmse < 0.1 * naive  # naive last-value forecast: 0.15


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"units": 0}, "Received units=0"),
        ({"units": 4, "spectral_radius": 0}, "Received spectral_radius=0"),
        ({"units": 4, "sparsity": 1.0}, "Received sparsity=1.0"),
        ({"units": 4, "leak_rate": 0.0}, "Received leak_rate=0.0"),
        ({"units": 4, "input_scaling": -1}, "Received input_scaling=-1"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EchoState(**kwargs)
