"""The text reader: columns per width, and a CNN + BiLSTM + CTC that learns to read."""

import itertools

import keras
import numpy as np
import pytest

from models.ctc import ctc_decode, ids_to_text
from models.ocr import ConvStack, text_reader
from models.recurrent import RecurrentSpec

RECURRENT = RecurrentSpec("lstm", 16, bidirectional=True)


@pytest.mark.parametrize(("width_pools", "batch_norm"), [(0, True), (1, False), (2, True)])
def test_one_step_of_logits_per_column_for_any_width(width_pools, batch_norm):
    conv = ConvStack((8, 16), width_pools=width_pools)
    reader = text_reader(5, 16, conv, RECURRENT, batch_norm=batch_norm)
    norms = [layer for layer in reader.layers if "BatchNormalization" in type(layer).__name__]
    assert len(norms) == (2 if batch_norm else 0)
    assert reader.get_layer("block1_conv").use_bias is not batch_norm
    for width in (7, 16, 45):
        images = np.zeros((2, 16, width, 1), np.uint8)
        logits = reader.predict(images, verbose=0)
        assert logits.shape == (2, conv.columns(width), 6)
    assert conv.columns(45) == (45, 22, 11)[width_pools]
    assert conv.narrowest_width() == (1, 2, 4)[width_pools]


@pytest.mark.parametrize(
    ("kernel_size", "stride", "padding", "height", "width", "rows", "columns"),
    [
        (3, 1, "same", 32, 100, 8, 50),  # 32 -> 16 -> 8; 100 -> 50 -> 50
        (3, 1, "valid", 32, 100, 6, 47),  # 30 -> 15 -> 13 -> 6; 98 -> 49 -> 47
        (3, 2, "same", 32, 100, 2, 13),  # 16 -> 8 -> 4 -> 2; 50 -> 25 -> 13
        (5, 1, 2, 32, 100, 8, 50),  # p = 2 keeps the size like same
    ],
)
def test_conv_stack_geometry_matches_the_model(
    kernel_size, stride, padding, height, width, rows, columns
):
    conv = ConvStack((4, 4), kernel_size, stride, padding, width_pools=1)
    assert conv.rows(height) == rows and conv.columns(width) == columns
    reader = text_reader(3, height, conv, RECURRENT)
    assert reader.predict(np.zeros((1, height, width, 1), np.uint8), verbose=0).shape == (
        1,
        columns,
        4,
    )


def stripes(text, alphabet):
    """A 16 px high image of ``text``: each character 6 px wide, a bright band at its own rows."""
    image = np.zeros((16, 6 * len(text) + 4), np.uint8)
    for position, char in enumerate(text):
        band = 3 * alphabet.index(char)
        image[band + 2 : band + 5, 2 + 6 * position : 6 + 6 * position] = 255
    return image[..., np.newaxis]


def test_the_reader_learns_to_read_strings_it_never_saw_with_ctc():
    keras.utils.set_random_seed(0)
    alphabet = "abcd"
    texts = ["".join(t) for t in itertools.product(alphabet, repeat=3)]  # 64 strings
    order = np.random.default_rng(0).permutation(len(texts))
    train = [texts[i] for i in order[:48]]
    unseen = [texts[i] for i in order[48:]]
    reader = text_reader(4, 16, ConvStack((8, 16), width_pools=1), RECURRENT, dropout=0.0)
    reader.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.CTC())
    labels = np.array([[alphabet.index(c) + 1 for c in text] for text in train], np.int32)
    images = np.stack([stripes(text, alphabet) for text in train])
    history = reader.fit(images, labels, batch_size=16, epochs=60, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    logits = reader.predict(np.stack([stripes(text, alphabet) for text in unseen]), verbose=0)
    ids, confidence = ctc_decode(logits)
    read = [text.decode() for text in ids_to_text(ids, alphabet).numpy()]
    assert np.mean([r == t for r, t in zip(read, unseen, strict=True)]) >= 0.9
    assert float(np.min(confidence)) > 0.5


def test_bad_reader_arguments_are_named():
    with pytest.raises(ValueError, match=r"leave no row of an image 4 px high.*height=4"):
        text_reader(alphabet_size=3, height=4, conv=ConvStack((8, 8, 8)))
    with pytest.raises(ValueError, match="width_pools=3"):
        ConvStack((8, 8), width_pools=3)
    with pytest.raises(ValueError, match="filters"):
        ConvStack(())
    with pytest.raises(ValueError, match="stride=0"):
        ConvStack(stride=0)
    with pytest.raises(ValueError, match="conv"):
        text_reader(alphabet_size=3, conv=(8, 8))
    with pytest.raises(ValueError, match="alphabet_size"):
        text_reader(alphabet_size=0)
    with pytest.raises(ValueError, match="batch_norm='yes'"):
        text_reader(alphabet_size=3, batch_norm="yes")
