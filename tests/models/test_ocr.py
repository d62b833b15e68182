"""The text reader: columns per width, padding masked, and a CNN + BiLSTM + CTC that learns."""

import itertools

import keras
import numpy as np
import pytest

from models.ctc import ctc_decode, ids_to_text
from models.ocr import BlankPadding, ConvStack, ImageColumns, read_logits, text_reader
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
        logits = read_logits(reader, images)
        assert logits.shape == (2, conv.columns(width), 6)
        counts = conv.column_counts(np.array([width, width + 1, width - 5]))
        assert counts.numpy().tolist() == [conv.columns(w) for w in (width, width + 1, width - 5)]
    assert conv.columns(45) == (45, 22, 11)[width_pools]
    assert conv.narrowest_width() == (1, 2, 4)[width_pools]


@pytest.mark.parametrize(
    ("kernel_size", "stride", "padding", "height", "width", "rows", "columns"),
    [
        (3, 1, "same", 32, 100, 8, 50),  # 32 -> 16 -> 8; 100 -> 50 -> 50
        (3, 1, "valid", 32, 100, 6, 47),  # 30 -> 15 -> 13 -> 6; 98 -> 49 -> 47
        (3, 2, 1, 32, 100, 2, 13),  # 16 -> 8 -> 4 -> 2; 50 -> 25 -> 13
        (3, 3, 2, 32, 100, 1, 7),  # 12 -> 6 -> 3 -> 1; 34 -> 17 -> 7
        (5, 1, 2, 32, 100, 8, 50),  # p = 2 keeps the size like same
    ],
)
def test_conv_stack_geometry_matches_the_model(
    kernel_size, stride, padding, height, width, rows, columns
):
    conv = ConvStack((4, 4), kernel_size, stride, padding, width_pools=1)
    assert conv.rows(height) == rows and conv.columns(width) == columns
    reader = text_reader(3, height, conv, RECURRENT)
    assert read_logits(reader, np.zeros((1, height, width, 1), np.uint8)).shape == (1, columns, 4)
    for narrower in (width - 1, width - 13, 5, 2, 1):  # p=2 would refill an emptied width
        assert int(conv.column_counts(np.array([narrower]))[0]) == conv.columns(narrower)


def test_padding_changes_nothing_on_an_images_own_columns_and_reads_blank():
    keras.utils.set_random_seed(1)
    conv = ConvStack((4, 8), width_pools=2)
    reader = text_reader(3, 16, conv, RecurrentSpec("lstm", 8, bidirectional=True), dropout=0.0)
    image = np.random.default_rng(0).integers(0, 256, (16, 40, 1), np.uint8)
    logits = {}
    for padding in (8, 48):  # columns past the image: 2 and 12
        padded = np.pad(image, ((0, 0), (0, padding), (0, 0)), constant_values=128)
        logits[padding] = reader({"images": padded[None], "widths": np.array([40])}).numpy()[0]
    own = conv.columns(40)
    assert logits[8].shape[0] == own + 2 and logits[48].shape[0] == own + 12
    # the backward LSTM starts at the image's last column whatever padding follows
    np.testing.assert_allclose(logits[8][:own], logits[48][:own], rtol=1e-5, atol=1e-6)
    assert np.all(logits[48][own:, 0] == BlankPadding.CERTAINTY)
    assert np.all(logits[48][own:, 1:] == -BlankPadding.CERTAINTY)
    # an unpadded image of the batch's width has no blanked column
    alone = read_logits(reader, image[None]).numpy()[0]
    assert alone.shape[0] == own and np.all(alone[:, 0] < BlankPadding.CERTAINTY)


def test_the_padding_layers_round_trip_their_config():
    columns = ImageColumns(ConvStack((4, 8), 5, 1, 2, width_pools=1), name="cols")
    again = ImageColumns.from_config(columns.get_config())
    assert again.conv == columns.conv and again.name == "cols"
    mask = again(np.zeros((2, 30, 3), np.float32), np.array([40, 7]))
    assert mask.numpy().sum(axis=1).tolist() == [columns.conv.columns(40), columns.conv.columns(7)]


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
    widths = np.full(len(images), images.shape[2], np.int32)
    history = reader.fit(
        {"images": images, "widths": widths}, labels, batch_size=16, epochs=60, verbose=0
    )
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    logits = read_logits(reader, np.stack([stripes(text, alphabet) for text in unseen]))
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
    with pytest.raises(ValueError, match=r"use an integer padding p \(e.g. p=2 for kernel_size=5"):
        ConvStack(kernel_size=5, stride=2, padding="same")
    with pytest.raises(ValueError, match="conv"):
        text_reader(alphabet_size=3, conv=(8, 8))
    with pytest.raises(ValueError, match="alphabet_size"):
        text_reader(alphabet_size=0)
    with pytest.raises(ValueError, match="batch_norm='yes'"):
        text_reader(alphabet_size=3, batch_norm="yes")
