"""Our SimpleRNN/LSTM/GRU and cells as drop-ins for Keras's: arguments, configs, harness, numbers.

Numbers against Keras's layers for every cell option live in test_rnn.py and
the fused loop's equality with `keras.layers.RNN` in test_fused_rnn.py; this
file checks the constructor surface: every argument and default of the
installed Keras namesake, Keras's configs (with the Keras 2 argument
``implementation``) loading into our classes, and Keras's own layer harness
(`keras.src.testing.TestCase.run_layer_test`) passing on our classes.

Backend note: ``use_cudnn`` selects cuDNN only on a GPU with the TensorFlow
backend; on this CPU ``"auto"`` falls back (to our fused loop) and True
raises, as Keras's layers do.
"""

import keras
import numpy as np
import pytest
from keras.src import testing

from models.layers import GRU, LSTM, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from tests.models.layers.dropin_harness import assert_signature_is_keras, config_json

PAIRS = {
    "SimpleRNN": (SimpleRNN, keras.layers.SimpleRNN),
    "LSTM": (LSTM, keras.layers.LSTM),
    "GRU": (GRU, keras.layers.GRU),
    "SimpleRNNCell": (SimpleRNNCell, keras.layers.SimpleRNNCell),
    "LSTMCell": (LSTMCell, keras.layers.LSTMCell),
    "GRUCell": (GRUCell, keras.layers.GRUCell),
}
RNG = np.random.default_rng(5)


@pytest.mark.parametrize("name", PAIRS)
def test_every_keras_argument_and_default_is_ours(name):
    assert_signature_is_keras(*PAIRS[name])


@pytest.mark.parametrize("name", PAIRS)
def test_config_keys_equal_keras(name):
    ours, theirs = PAIRS[name]
    assert set(ours(3).get_config()) == set(theirs(3).get_config())


@pytest.mark.parametrize("name", ["LSTM", "GRU", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("implementation", [1, 2])
def test_keras_configs_with_implementation_load_and_round_trip(name, implementation):
    ours, theirs = PAIRS[name]
    keras_layer = theirs(4, dropout=0.25, implementation=implementation)
    config = config_json(keras_layer)
    config["implementation"] = implementation  # as Keras 2 saved it
    layer = ours.from_config(config)
    assert layer.units == 4 and layer.dropout == 0.25
    again = ours.from_config(config_json(layer))
    assert again.get_config() == layer.get_config()
    expected = {k: v for k, v in config.items() if k not in ("name", "implementation")}
    assert {k: v for k, v in layer.get_config().items() if k != "name"} == expected


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_our_layers_swapped_into_a_keras_model_match_and_reload(name, tmp_path):
    ours, theirs = PAIRS[name]
    x = RNG.normal(size=(2, 5, 3)).astype("float32")
    keras_model = keras.Sequential([keras.Input((5, 3)), theirs(4, return_sequences=True)])
    ours_model = keras.Sequential([keras.Input((5, 3)), ours(4, return_sequences=True)])
    ours_model.set_weights(keras_model.get_weights())
    np.testing.assert_allclose(ours_model(x), keras_model(x), atol=1e-5)
    path = tmp_path / "ours.keras"
    ours_model.save(path)
    np.testing.assert_allclose(keras.models.load_model(path)(x), keras_model(x), atol=1e-5)


def test_simple_rnn_refuses_use_cudnn_like_keras():
    with pytest.raises(Exception) as keras_error:
        keras.layers.SimpleRNN(3, use_cudnn=True)
    with pytest.raises(type(keras_error.value), match="use_cudnn"):
        SimpleRNN(3, use_cudnn=True)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_use_cudnn_is_checked_and_true_raises_without_cudnn(name):
    ours, theirs = PAIRS[name]
    with pytest.raises(ValueError, match="use_cudnn"):
        ours(3, use_cudnn="yes")
    x = np.zeros((2, 4, 3), "float32")
    for layer_class in (ours, theirs):
        with pytest.raises(ValueError, match="use_cudnn"):
            layer_class(3, use_cudnn=True)(x)
    assert ours(3, use_cudnn=False).get_config()["use_cudnn"] is False


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("argument", [{"units": 0}, {"units": -2}, {"dropout": "a lot"}])
def test_bad_values_raise_keras_error_types_with_our_message(name, argument):
    ours, theirs = PAIRS[name]
    arguments = {"units": 3, **argument}
    with pytest.raises(Exception) as keras_error:
        theirs(**arguments)
    with pytest.raises(type(keras_error.value), match=next(iter(argument))):
        ours(**arguments)


class _Harness(testing.TestCase):
    def runTest(self):  # noqa: N802 (unittest's name)
        pass


@pytest.mark.parametrize(
    ("name", "init_kwargs", "output_shape"),
    [
        ("SimpleRNN", {"units": 3, "dropout": 0.5, "recurrent_dropout": 0.5}, (3, 3)),
        ("LSTM", {"units": 3, "return_sequences": True, "implementation": 1}, (3, 4, 3)),
        ("GRU", {"units": 3, "go_backwards": True, "reset_after": False}, (3, 3)),
        ("GRU", {"units": 3, "return_sequences": True, "use_cudnn": False}, (3, 4, 3)),
    ],
)
def test_keras_layer_harness_passes_on_our_layers(name, init_kwargs, output_shape):
    ours, _ = PAIRS[name]
    _Harness().run_layer_test(
        ours,
        init_kwargs=init_kwargs,
        input_shape=(3, 4, 2),
        expected_output_shape=output_shape,
        expected_num_trainable_weights=3,
        expected_num_non_trainable_weights=0,
        supports_masking=True,
        run_training_check=True,
        run_mixed_precision_check=False,
    )
