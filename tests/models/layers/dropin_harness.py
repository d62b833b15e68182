"""What the drop-in test files share: checks of one of our layers against its Keras namesake.

Used by test_conv_dropin.py and test_pooling_dropin.py; it holds no tests itself.
"""

import inspect
import json

import keras

FORMATS = ("channels_last", "channels_first")


def case_id(case):
    return "-".join(f"{k}={v}" for k, v in case.items())


def batch_shape(spatial, channels, data_format, batch=2):
    """``(batch, *spatial, channels)`` or ``(batch, channels, *spatial)``."""
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def tf_same_pads(spatial, strides, windows):
    """TensorFlow's "same" ``(before, after)`` per dim: as needed, the extra one at the end."""
    totals = [max((-(-n // s) - 1) * s + f - n, 0) for n, s, f in zip(spatial, strides, windows)]
    return [(t // 2, t - t // 2) for t in totals]


def config_json(layer):
    """``layer.get_config()`` as it comes back from a JSON file."""
    return json.loads(json.dumps(layer.get_config()))


def assert_signature_is_keras(ours, theirs):
    """Keras's constructor parameters, in order, with Keras's defaults and kinds."""
    ours = inspect.signature(ours.__init__).parameters
    theirs = inspect.signature(theirs.__init__).parameters
    assert list(ours) == list(theirs)
    for name, parameter in theirs.items():
        assert ours[name].default == parameter.default, name
        assert ours[name].kind == parameter.kind, name


def assert_configs_cross_over(ours, reference):
    """Our config revives our class unchanged; Keras's config revives ours into Keras's config.

    ``reference`` is None where Keras has no counterpart (integer padding): then
    our round trip, and the padding stored one int per dim.
    """
    our_config = config_json(ours)
    assert config_json(type(ours).from_config(our_config)) == our_config
    if reference is None:
        assert our_config["padding"] == list(ours.padding)
        return
    keras_config = config_json(reference)
    assert set(our_config) == set(keras_config)
    # Keras's config -> our class -> Keras's config, key for key and value for value.
    assert config_json(type(ours).from_config(keras_config)) == keras_config


def save_and_reload(layer, x, tmp_path):
    """``layer`` in a model saved to a ``.keras`` file and loaded back.

    Checks the reloaded layer's class and config; returns ``(model, reloaded_model)``.
    """
    model = keras.Sequential([keras.Input(x.shape[1:]), layer])
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert type(reloaded.layers[0]) is type(layer)
    assert reloaded.layers[0].get_config() == layer.get_config()
    return model, reloaded
