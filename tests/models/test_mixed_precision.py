"""Under the mixed_float16 policy every model computes in float16 but outputs float32.

Float32 outputs keep softmax, losses and the forecaster's de-normalization
accurate, and let Keras scale the loss; the GPU path uses this policy by
default (`pipelines.devices`), so it is checked here on the CPU.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from models import small_cnn
from models.captioning import captioner
from models.decoding import beam_search_decode, greedy_decode
from models.forecasting import forecaster
from models.recurrent import RecurrentSpec
from models.sentiment import sentiment_classifier
from models.tagging import sequence_tagger
from models.transfer import transfer_model
from models.translation import seq2seq
from models.vgg import small_vgg


@pytest.fixture
def mixed_policy():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy(previous)


def _float16_inside_float32_out(model, inputs, targets, loss):
    keras.utils.set_random_seed(0)
    outputs = model(inputs)
    assert outputs.dtype == "float32"
    assert any(layer.compute_dtype == "float16" for layer in model.layers)
    assert all(w.dtype == "float32" for w in model.trainable_weights)  # float32 variables
    model.compile(keras.optimizers.Adam(1e-3), loss)
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    before = [w.numpy().copy() for w in model.trainable_weights]
    # dynamic loss scaling skips the first steps whose scaled gradients overflow float16
    history = model.fit(inputs, targets, batch_size=1, epochs=3, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    assert any(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights))


def test_image_classifiers(mixed_policy):
    images = np.random.default_rng(0).integers(0, 256, (8, 28, 28, 1)).astype("float32")
    labels = np.arange(8) % 3
    model = small_cnn(input_shape=(28, 28, 1), classes=3, filters=(4, 8))
    _float16_inside_float32_out(model, images, labels, "sparse_categorical_crossentropy")
    model = small_vgg(input_shape=(28, 28, 1), classes=3, blocks=((4, 1), (8, 1)), dense_units=8)
    _float16_inside_float32_out(model, images, labels, "sparse_categorical_crossentropy")
    base = small_vgg(include_top=False, input_shape=(32, 32, 3), blocks=((4, 1),))
    model = transfer_model(base, classes=3, input_channels=1, preprocessing=None)
    _float16_inside_float32_out(
        model, images.astype("uint8"), labels, "sparse_categorical_crossentropy"
    )


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
def test_sentiment_and_tagging(mixed_policy, cell):
    ids = np.random.default_rng(0).integers(1, 50, (8, 6))
    spec = RecurrentSpec(cell=cell, units=8)
    model = sentiment_classifier(50, 2, embedding_dim=8, recurrent=spec)
    _float16_inside_float32_out(model, ids, np.arange(8) % 2, "binary_crossentropy")
    if cell == "lstm":
        both_ways = RecurrentSpec(cell=cell, units=8, bidirectional=True)
        model = sequence_tagger(50, 4, embedding_dim=8, recurrent=both_ways)
        _float16_inside_float32_out(model, ids, ids % 4, "sparse_categorical_crossentropy")


def test_word_cnn_with_ngrams(mixed_policy):
    ids = np.random.default_rng(0).integers(1, 50, (8, 6))
    model = sentiment_classifier(
        50, 3, embedding_dim=8, encoder="cnn", cnn_filters=4, ngrams=2, ngram_buckets=64
    )
    assert model.get_layer("ngram_logits").weight_table.dtype == "float32"
    _float16_inside_float32_out(model, ids, np.arange(8) % 3, "sparse_categorical_crossentropy")


def test_forecaster_keeps_original_units_in_float32(mixed_policy):
    windows = 250.0 + np.random.default_rng(0).normal(size=(8, 6, 1)).astype("float32")
    model = forecaster(6, 1, 1, mean=[250.0], std=[1.0], recurrent=RecurrentSpec(units=8))
    # the window's last value is added back in float32: float16 would round
    # 250.3 to 250.25, an error as large as the change being forecast
    last = windows[:, -1, 0]
    change = model(windows).numpy()[:, 0] - last
    assert np.all(np.abs(change) < 5.0)
    for name in ("forecast", "change", "normalized_forecast", "relative_to_last"):
        assert model.get_layer(name).compute_dtype == "float32", name
    # targets off the last value: the untrained forecaster is naive, and its exact
    # forecasts would give zero gradients
    _float16_inside_float32_out(model, windows, windows[:, -1, :] + 1.0, "mse")


def test_encoder_decoders_decode_under_mixed_precision(mixed_policy):
    keras.utils.set_random_seed(0)
    model = seq2seq(10, 12, embedding_dim=4, recurrent=RecurrentSpec(units=6), attention="luong")
    source = tf.constant([[3, 4, 5, 6], [7, 8, 0, 0]], tf.int64)
    targets = tf.constant([[1, 5, 6], [1, 7, 0]], tf.int64)
    assert model.training([source, targets]).dtype == "float32"
    assert greedy_decode(model, source, start_id=1, end_id=2, max_length=5).shape == (2, 5)
    assert beam_search_decode(
        model, source, start_id=1, end_id=2, max_length=5, beam_width=3
    ).shape == (2, 5)
    images = tf.constant(np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3)), tf.uint8)
    model = captioner((16, 16, 3), 12, embedding_dim=4, recurrent=RecurrentSpec("gru", 6))
    assert model.training([images, targets]).dtype == "float32"
    assert greedy_decode(model, images, start_id=1, end_id=2, max_length=4).shape == (2, 4)
    assert beam_search_decode(
        model, images, start_id=1, end_id=2, max_length=4, beam_width=2
    ).shape == (2, 4)


def test_text_reader(mixed_policy):
    from models.ocr import ConvStack, text_reader

    images = np.random.default_rng(0).integers(0, 256, (4, 16, 24, 1)).astype("uint8")
    inputs = {"images": images, "widths": np.array([24, 20, 16, 24], np.int32)}
    labels = np.array([[1, 2], [2, 0], [1, 0], [2, 1]], np.int32)  # 0 pads
    model = text_reader(
        2, 16, ConvStack((4, 8)), RecurrentSpec("lstm", 8, bidirectional=True), dense_units=8
    )
    _float16_inside_float32_out(model, inputs, labels, keras.losses.CTC())
