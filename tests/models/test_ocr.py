"""The text reader: columns per width, and a CNN + BiLSTM + CTC that learns to read."""

import itertools

import keras
import numpy as np
import pytest

from models.ctc import ctc_decode, ids_to_text
from models.ocr import output_columns, text_reader
from models.recurrent import RecurrentSpec

SMALL = {"filters": (8, 16), "recurrent": RecurrentSpec("lstm", 16, bidirectional=True)}


@pytest.mark.parametrize(("width_pools", "batch_norm"), [(0, True), (1, False), (2, True)])
def test_one_step_of_logits_per_column_for_any_width(width_pools, batch_norm):
    reader = text_reader(
        alphabet_size=5, height=16, width_pools=width_pools, batch_norm=batch_norm, **SMALL
    )
    norms = [layer for layer in reader.layers if "BatchNormalization" in type(layer).__name__]
    assert len(norms) == (2 if batch_norm else 0)
    assert reader.get_layer("block1_conv").use_bias is not batch_norm
    for width in (7, 16, 45):
        images = np.zeros((2, 16, width, 1), np.uint8)
        logits = reader.predict(images, verbose=0)
        assert logits.shape == (2, output_columns(width, width_pools), 6)
    assert output_columns(45, 2) == 11 and output_columns(45, 0) == 45


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
    reader = text_reader(alphabet_size=4, height=16, width_pools=1, dropout=0.0, **SMALL)
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
    with pytest.raises(ValueError, match=r"at least 8\. Received height=4"):
        text_reader(alphabet_size=3, height=4, filters=(8, 8, 8))
    with pytest.raises(ValueError, match="width_pools=3"):
        text_reader(alphabet_size=3, filters=(8, 8), width_pools=3)
    with pytest.raises(ValueError, match="filters"):
        text_reader(alphabet_size=3, filters=())
    with pytest.raises(ValueError, match="alphabet_size"):
        text_reader(alphabet_size=0)
    with pytest.raises(ValueError, match="batch_norm='yes'"):
        text_reader(alphabet_size=3, batch_norm="yes")
