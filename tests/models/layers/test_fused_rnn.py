"""Our fused LSTM/GRU loops equal `keras.layers.RNN` over our cells, forward and backward.

The reference is Keras's generic time loop running our own cell, so these
tests check the loop (projection up front, hand-written backward pass,
masks, direction, states), not the cell's math (test_rnn.py compares the
cells with Keras's). Training-mode calls go through the hand-written
backward pass; inference calls through the plain forward loop.
"""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.layers import GRU, LSTM, SimpleRNN, fused_rnn, rnn_loops
from models.layers.rnn_cells import GRUCell, LSTMCell

UNITS, FEATURES, STEPS, BATCH = 6, 5, 9, 4
RNG = np.random.default_rng(7)

LAYERS = {
    "lstm": (LSTM, LSTMCell, {}),
    "lstm_no_bias": (LSTM, LSTMCell, {"use_bias": False}),
    "gru": (GRU, GRUCell, {}),
    "gru_no_bias": (GRU, GRUCell, {"use_bias": False}),
}


def inputs_and_mask():
    x = RNG.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    lengths = np.array([STEPS, 5, 1, 0])  # a fully masked sequence too
    mask = np.arange(STEPS)[None, :] < lengths[:, None]
    mask[1, 0] = False  # a masked first step (holds the initial state)
    return tf.constant(x), tf.constant(mask)


def pair(name, **options):
    layer_class, cell_class, kwargs = LAYERS[name]
    ours = layer_class(UNITS, **options, **kwargs)
    reference = keras.layers.RNN(cell_class(UNITS, **kwargs), **options)
    return ours, reference


def initial_states(name):
    count = 2 if name.startswith("lstm") else 1
    return [tf.constant(RNG.normal(size=(BATCH, UNITS)).astype("float32")) for _ in range(count)]


def run(layer, x, call_kwargs, training, upstream_seed=0):
    """Outputs and the gradients of a random projection of them, traced in a tf.function."""
    watched = [x, *call_kwargs.get("initial_state", [])]

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(watched)
            outputs = layer(x, training=training, **call_kwargs)
            outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            rng = np.random.default_rng(upstream_seed)
            loss = sum(
                tf.reduce_sum(out * rng.normal(size=out.shape).astype("float32")) for out in outputs
            )
        return outputs, tape.gradient(loss, [*watched, *layer.trainable_weights])

    outputs, gradients = step()
    return [o.numpy() for o in outputs], [
        np.zeros(1) if g is None else g.numpy() for g in gradients
    ]


def assert_equal_runs(ours, reference, x, call_kwargs, training):
    ours(x), reference(x)  # build
    for weight in reference.weights:
        weight.assign(RNG.normal(scale=0.5, size=weight.shape).astype("float32"))
    ours.set_weights(reference.get_weights())
    for layer in (ours, reference):
        if getattr(layer, "stateful", False):
            layer.reset_states()  # building called the layers once
    out_ours, grad_ours = run(ours, x, call_kwargs, training)
    out_ref, grad_ref = run(reference, x, call_kwargs, training)
    assert [o.shape for o in out_ours] == [o.shape for o in out_ref]
    for a, b in zip(out_ours, out_ref, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
    for a, b in zip(grad_ours, grad_ref, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
    return out_ours


@pytest.mark.parametrize(
    ("name", "return_sequences", "go_backwards", "masked", "zero_output", "training"),
    [
        (name, sequences, backwards, masked, zero, training)
        for name, sequences, backwards, masked, zero, training in itertools.product(
            ["lstm", "gru"],
            [False, True],
            [False, True],
            [False, True],
            [False, True],
            [True],
        )
        if masked or not zero  # zero_output_for_mask only matters with a mask
    ]
    + [  # inference runs the same forward loop without the hand-written gradients
        ("lstm", True, True, True, False, False),
        ("gru", True, True, True, True, False),
        # without biases
        ("lstm_no_bias", True, False, True, False, True),
        ("gru_no_bias", True, True, True, False, True),
    ],
)
def test_fused_loop_equals_keras_rnn_over_our_cell(
    name, return_sequences, go_backwards, masked, zero_output, training
):
    options = dict(
        return_sequences=return_sequences,
        return_state=True,
        go_backwards=go_backwards,
        zero_output_for_mask=zero_output,
    )
    ours, reference = pair(name, **options)
    x, mask = inputs_and_mask()
    call_kwargs = {"initial_state": initial_states(name)}
    if masked:
        call_kwargs["mask"] = mask
    assert rnn_loops.fused_loop_applies(ours, x, training)
    outputs = assert_equal_runs(ours, reference, x, call_kwargs, training)
    if masked and return_sequences and zero_output:
        assert np.all(outputs[0][3] == 0.0)  # the fully masked sequence outputs zeros


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_fused_loop_applies_the_same_dropout_masks(name):
    options = dict(return_sequences=True, dropout=0.3, recurrent_dropout=0.4, seed=11)
    layer_class, cell_class, _ = LAYERS[name]
    ours = layer_class(UNITS, **options)
    reference = keras.layers.RNN(
        cell_class(UNITS, dropout=0.3, recurrent_dropout=0.4, seed=11), return_sequences=True
    )
    x, _ = inputs_and_mask()
    outputs = assert_equal_runs(ours, reference, x, {}, training=True)
    inference = ours(x, training=False).numpy()
    assert not np.allclose(outputs[0], inference, atol=1e-3)  # dropout did act


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_stateful_calls_carry_the_states_like_keras(name):
    x, _ = inputs_and_mask()
    ours, reference = pair(name, return_sequences=True, stateful=True)
    assert_equal_runs(ours, reference, x, {}, training=True)
    second_ours = run(ours, x[:, ::-1], {}, True)[0][0]  # continues from the kept states
    second_ref = run(reference, x[:, ::-1], {}, True)[0][0]
    np.testing.assert_allclose(second_ours, second_ref, atol=1e-5)
    assert not np.allclose(second_ours, run(ours, x[:, ::-1], {}, True)[0][0], atol=1e-4)


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_unroll_uses_the_generic_loop_and_agrees(name):
    ours, reference = pair(name, return_sequences=True, unroll=True)
    x, _ = inputs_and_mask()
    assert not rnn_loops.fused_loop_applies(ours, x, True)
    assert_equal_runs(ours, reference, x, {}, training=True)


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_bidirectional_equals_keras_rnn_over_our_cell(name):
    layer_class, cell_class, _ = LAYERS[name]
    ours = keras.layers.Bidirectional(layer_class(UNITS, return_sequences=True))
    reference = keras.layers.Bidirectional(
        keras.layers.RNN(cell_class(UNITS), return_sequences=True)
    )
    x, mask = inputs_and_mask()
    assert_equal_runs(ours, reference, x, {"mask": mask}, training=True)


def test_other_configurations_take_the_generic_loop():
    x, _ = inputs_and_mask()
    for layer in (
        GRU(UNITS, reset_after=False),
        LSTM(UNITS, activation="relu"),
        GRU(UNITS, recurrent_activation="hard_sigmoid"),
        SimpleRNN(UNITS),
    ):
        layer(x)
        assert not rnn_loops.fused_loop_applies(layer, x, True)
    unknown_length = keras.Input((None, FEATURES))
    layer = LSTM(UNITS)
    layer(unknown_length)
    assert not rnn_loops.fused_loop_applies(layer, unknown_length, True)
    assert rnn_loops.fused_loop_applies(layer, unknown_length, False)


@pytest.mark.parametrize("run_eagerly", [False, True])
@pytest.mark.parametrize("layer_class", [LSTM, GRU])
def test_a_model_trains_through_the_fused_loop(layer_class, run_eagerly, monkeypatch):
    calls = []
    fused_loop = rnn_loops.fused_loop
    monkeypatch.setattr(
        rnn_loops, "fused_loop", lambda *args: calls.append(args[-1]) or fused_loop(*args)
    )
    x, _ = inputs_and_mask()
    target = tf.reduce_mean(x, axis=(1, 2))[:, None]
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((STEPS, FEATURES)), layer_class(8), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse", run_eagerly=run_eagerly)
    history = model.fit(x, target, batch_size=3, epochs=25, verbose=0)  # a partial last batch
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert True in calls  # trained through the fused loop


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_eager_gradients_equal_keras_rnn_over_our_cell(name):
    ours, reference = pair(name, return_sequences=True)
    x, mask = inputs_and_mask()
    ours(x), reference(x)
    ours.set_weights(reference.get_weights())
    results = []
    for layer in (ours, reference):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.square(layer(x, mask=mask, training=True)))
        results.append(tape.gradient(loss, [x, *layer.trainable_weights]))
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_batches_smaller_than_or_uneven_over_the_shards_agree(name, batch):
    ours, reference = pair(name, return_sequences=True, return_state=True)
    x, mask = inputs_and_mask()
    call_kwargs = {"initial_state": [s[:batch] for s in initial_states(name)], "mask": mask[:batch]}
    assert_equal_runs(ours, reference, x[:batch], call_kwargs, training=True)


def test_batch_shards_concatenate_back_in_order():
    sequences = tf.reshape(tf.range(2 * 5 * 3, dtype=tf.float32), (2, 5, 3))  # (T, B, N)
    states = tf.reshape(tf.range(5 * 4, dtype=tf.float32), (5, 4))  # (B, U)
    seen = []

    def double(sequence, state):
        seen.append(int(state.shape[0]))
        return sequence * 2.0, state + 1.0

    doubled, plus_one = fused_rnn.by_batch_shards(double, (sequences, states), parts=3)
    np.testing.assert_array_equal(doubled, sequences * 2.0)
    np.testing.assert_array_equal(plus_one, states + 1.0)
    assert seen == [1, 2, 2]  # 5 rows in 3 slices, none lost
