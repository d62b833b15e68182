import inspect
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.layers import (
    GRU,
    LSTM,
    EchoState,
    EchoStateCell,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
)

RNG = np.random.default_rng(2)
UNITS, FEATURES, STEPS, BATCH = 5, 4, 7, 3

VARIANTS = {
    "simple_rnn": (SimpleRNN, keras.layers.SimpleRNN, {}),
    "lstm": (LSTM, keras.layers.LSTM, {}),
    "lstm_no_forget_bias": (LSTM, keras.layers.LSTM, {"unit_forget_bias": False}),
    "gru": (GRU, keras.layers.GRU, {}),
    "gru_reset_before": (GRU, keras.layers.GRU, {"reset_after": False}),
}


def random_inputs():
    x = tf.constant(RNG.normal(size=(BATCH, STEPS, FEATURES)).astype("float32"))
    lengths = np.array([STEPS, 4, 1])
    mask = tf.constant(np.arange(STEPS)[None, :] < lengths[:, None])
    return x, mask


def copy_random_weights(source, target):
    """Gives `source` random weights (biases included) and copies them into `target`."""
    for weight in source.weights:
        weight.assign(RNG.normal(scale=0.5, size=weight.shape).astype("float32"))
    target.set_weights(source.get_weights())


def outputs_and_gradients(layer, x, call_kwargs, upstream_seed=0):
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs = layer(x, **call_kwargs)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        rng = np.random.default_rng(upstream_seed)
        loss = sum(
            tf.reduce_sum(out * rng.normal(size=out.shape).astype("float32")) for out in outputs
        )
    gradients = tape.gradient(loss, [x, *layer.trainable_weights])
    return [o.numpy() for o in outputs], [g.numpy() for g in gradients]


def assert_same(ours, reference, call_kwargs, x):
    ours(x, **call_kwargs), reference(x, **call_kwargs)  # build
    copy_random_weights(ours, reference)
    out_ours, grad_ours = outputs_and_gradients(ours, x, call_kwargs)
    out_ref, grad_ref = outputs_and_gradients(reference, x, call_kwargs)
    assert [o.shape for o in out_ours] == [o.shape for o in out_ref]
    for a, b in zip(out_ours, out_ref):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
    assert len(grad_ours) == len(grad_ref)
    for a, b in zip(grad_ours, grad_ref):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    ("variant", "return_sequences", "go_backwards", "masked"),
    list(itertools.product(VARIANTS, [False, True], [False, True], [False, True])),
)
def test_outputs_states_and_gradients_equal_keras(variant, return_sequences, go_backwards, masked):
    ours_cls, keras_cls, kwargs = VARIANTS[variant]
    options = dict(return_sequences=return_sequences, return_state=True, go_backwards=go_backwards)
    ours = ours_cls(UNITS, **options, **kwargs)
    reference = keras_cls(UNITS, **options, **kwargs)
    x, mask = random_inputs()
    assert_same(ours, reference, {"mask": mask} if masked else {}, x)


@pytest.mark.parametrize(
    ("variant", "merge_mode"),
    list(itertools.product(VARIANTS, ["concat", "sum", "mul", "ave", None])),
)
def test_bidirectional_equals_keras_in_every_merge_mode(variant, merge_mode):
    ours_cls, keras_cls, kwargs = VARIANTS[variant]
    ours = keras.layers.Bidirectional(
        ours_cls(UNITS, return_sequences=True, **kwargs), merge_mode=merge_mode
    )
    reference = keras.layers.Bidirectional(
        keras_cls(UNITS, return_sequences=True, **kwargs), merge_mode=merge_mode
    )
    x, mask = random_inputs()
    assert_same(ours, reference, {"mask": mask}, x)
    assert type(ours.backward_layer) is ours_cls and ours.backward_layer.go_backwards


@pytest.mark.parametrize("variant", VARIANTS)
def test_initial_state_equals_keras(variant):
    ours_cls, keras_cls, kwargs = VARIANTS[variant]
    ours, reference = ours_cls(UNITS, **kwargs), keras_cls(UNITS, **kwargs)
    x, _ = random_inputs()
    n_states = 2 if ours_cls is LSTM else 1
    states = [
        tf.constant(RNG.normal(size=(BATCH, UNITS)).astype("float32")) for _ in range(n_states)
    ]
    ours(x), reference(x)
    copy_random_weights(ours, reference)
    np.testing.assert_allclose(
        ours(x, initial_state=states), reference(x, initial_state=states), atol=1e-5
    )


def test_unit_forget_bias_initialises_like_keras():
    for unit_forget_bias in (True, False):
        ours = LSTM(UNITS, unit_forget_bias=unit_forget_bias)
        reference = keras.layers.LSTM(UNITS, unit_forget_bias=unit_forget_bias)
        x, _ = random_inputs()
        ours(x), reference(x)
        bias = ours.cell.bias.numpy()
        np.testing.assert_array_equal(bias, reference.cell.bias.numpy())
        np.testing.assert_array_equal(bias[UNITS : 2 * UNITS], float(unit_forget_bias))
        assert not bias[:UNITS].any() and not bias[2 * UNITS :].any()


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (SimpleRNN(UNITS), UNITS * (FEATURES + UNITS) + UNITS),
        (LSTM(UNITS), 4 * (UNITS * (FEATURES + UNITS) + UNITS)),
        (GRU(UNITS), 3 * UNITS * (FEATURES + UNITS) + 2 * 3 * UNITS),
        (GRU(UNITS, reset_after=False), 3 * (UNITS * (FEATURES + UNITS) + UNITS)),
    ],
)
def test_weight_counts(layer, expected):
    layer(np.zeros((1, STEPS, FEATURES), "float32"))
    assert layer.count_params() == expected


def test_stateful_carries_the_state_across_calls():
    for cls in (SimpleRNN, LSTM, GRU):
        x, _ = random_inputs()
        whole = cls(UNITS, return_sequences=True)
        stateful = cls(UNITS, return_sequences=True, stateful=True)
        whole(x), stateful(x[:, :3])
        stateful.reset_state()
        stateful.set_weights(whole.get_weights())
        first, second = stateful(x[:, :3]), stateful(x[:, 3:])
        np.testing.assert_allclose(np.concatenate([first, second], 1), whole(x), atol=1e-5)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_dropout_acts_in_training_only(cls):
    x, _ = random_inputs()
    layer = cls(UNITS, dropout=0.5, recurrent_dropout=0.3, seed=1, return_sequences=True)
    plain = cls(UNITS, return_sequences=True)
    layer(x), plain(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(x, training=False), plain(x), atol=1e-6)
    first, second = layer(x, training=True), layer(x, training=True)
    assert not np.allclose(first, plain(x))
    assert not np.allclose(first, second)  # fresh masks for each batch


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_a_training_step_lowers_the_loss(cls):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((STEPS, FEATURES)), cls(8), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    x, _ = random_inputs()
    y = np.sum(x.numpy(), axis=(1, 2))[:, None]
    first = model.train_on_batch(x, y)
    for _ in range(20):
        last = model.train_on_batch(x, y)
    assert last < 0.5 * first


@pytest.mark.parametrize(
    "make_layer",
    [
        lambda: SimpleRNN(UNITS, return_sequences=True, dropout=0.1, kernel_regularizer="l2"),
        lambda: LSTM(UNITS, unit_forget_bias=False, go_backwards=True, recurrent_dropout=0.2),
        lambda: GRU(UNITS, reset_after=False, return_state=True, seed=3),
        lambda: EchoState(UNITS, spectral_radius=0.8, sparsity=0.5, leak_rate=0.3, seed=4),
        lambda: keras.layers.Bidirectional(LSTM(UNITS, return_sequences=True), merge_mode="sum"),
    ],
)
def test_config_round_trip_and_keras_file(make_layer, tmp_path):
    layer = make_layer()
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    inputs = keras.Input((STEPS, FEATURES))
    outputs = layer(inputs)
    model = keras.Model(inputs, outputs)
    x, _ = random_inputs()
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    for a, b in zip(keras.tree.flatten(reloaded(x)), keras.tree.flatten(model(x))):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_savedmodel_export_runs_without_convseq(tmp_path, serve_in_fresh_process):
    inputs = keras.Input((STEPS, FEATURES), name="sequences")
    branches = [
        SimpleRNN(UNITS)(inputs),
        LSTM(UNITS)(inputs),
        GRU(UNITS, reset_after=False)(inputs),
        EchoState(UNITS, sparsity=0.5, seed=0)(inputs),
        keras.layers.Bidirectional(GRU(UNITS))(inputs),
    ]
    model = keras.Model(inputs, keras.layers.Concatenate()(branches))
    model.export(tmp_path / "export", format="tf_saved_model", verbose=False)
    x, _ = random_inputs()
    served = serve_in_fresh_process(tmp_path / "export", x.numpy())
    np.testing.assert_allclose(served["output"], model(x), atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"units": 0}, "Received units=0"),
        ({"units": 4, "dropout": 1.0}, "Received dropout=1.0"),
        ({"units": 4, "recurrent_dropout": -0.1}, "Received recurrent_dropout=-0.1"),
    ],
)
def test_invalid_arguments(kwargs, message):
    for cls in (SimpleRNN, LSTM, GRU):
        with pytest.raises(ValueError, match=message):
            cls(**kwargs)


@pytest.mark.parametrize(
    "cell",
    [
        SimpleRNNCell(3, dropout=0.2, seed=1),
        LSTMCell(3, unit_forget_bias=False, recurrent_activation="hard_sigmoid"),
        GRUCell(3, reset_after=False, kernel_regularizer="l1"),
        EchoStateCell(3, sparsity=0.3, leak_rate=0.5, seed=2),
    ],
)
def test_cells_round_trip_their_config_and_run_in_keras_rnn(cell):
    config = cell.get_config()
    clone = type(cell).from_config(config)
    assert clone.get_config() == config
    layer = keras.layers.RNN(clone, return_sequences=True)
    assert layer(np.zeros((2, STEPS, FEATURES), "float32")).shape == (2, STEPS, 3)


@pytest.mark.parametrize(
    ("ours", "reference"),
    [
        (SimpleRNN, keras.layers.SimpleRNN),
        (LSTM, keras.layers.LSTM),
        (GRU, keras.layers.GRU),
        (SimpleRNNCell, keras.layers.SimpleRNNCell),
        (LSTMCell, keras.layers.LSTMCell),
        (GRUCell, keras.layers.GRUCell),
    ],
)
def test_constructors_match_keras_names_order_and_defaults(ours, reference):
    """Ours can replace Keras's in any call, positional arguments included."""

    def signature(cls):
        return [(p.name, p.default) for p in inspect.signature(cls.__init__).parameters.values()]

    assert signature(ours) == signature(reference)


def test_use_cudnn_is_accepted_and_kept_in_the_config():
    layer = LSTM(3, use_cudnn=False)
    assert layer.get_config()["use_cudnn"] is False
    assert LSTM.from_config(layer.get_config()).use_cudnn is False
    with pytest.raises(ValueError, match="Received use_cudnn='yes'"):
        GRU(3, use_cudnn="yes")
