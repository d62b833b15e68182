"""The text reader's SavedModel: raw images of any size in, the texts the model reads out."""

import io

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from models.ctc import ctc_decode, ids_to_text
from models.ocr import ConvStack, read_logits, text_reader
from models.recurrent import RecurrentSpec
from pipelines.export import EXTRA_DIR
from pipelines.export_ocr import ALPHABET_FILE, export_text_reader, reader_inputs

ALPHABET = "ab1"


@pytest.fixture(scope="module")
def reader():
    keras.utils.set_random_seed(3)
    model = text_reader(
        alphabet_size=len(ALPHABET),
        height=16,
        conv=ConvStack((4, 8)),
        recurrent=RecurrentSpec("gru", 8, bidirectional=True),
        dense_units=8,
    )
    # a large blank-free bias so the untrained reader reads characters, not nothing
    logits = model.get_layer("logits")
    logits.bias.assign(np.array([-4.0, 0.0, 0.0, 0.0], np.float32))
    return model


def read_in_process(reader, images):
    logits = read_logits(reader, reader_inputs(tf.constant(images), 16, 4))
    ids, confidence = ctc_decode(logits)
    return ids_to_text(ids, ALPHABET).numpy(), confidence.numpy()


def png(image):
    buffer = io.BytesIO()
    Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_export_reads_raw_images_as_the_model_does_in_a_fresh_python(
    reader, tmp_path, serve_in_fresh_process
):
    path = export_text_reader(reader, ALPHABET, tmp_path, "plates")
    assert (path / EXTRA_DIR / ALPHABET_FILE).read_text() == ALPHABET
    images = np.random.default_rng(0).integers(0, 256, (3, 24, 50, 3), dtype=np.uint8)
    served = serve_in_fresh_process(path, images, signature_input="images")
    texts, confidence = read_in_process(reader, images)
    assert any(texts), "the reader read nothing: the comparison would prove little"
    assert served["text"].tolist() == texts.tolist()
    np.testing.assert_allclose(served["confidence"], confidence, rtol=1e-4)
    assert np.all((confidence > 0) & (confidence <= 1))


def test_encoded_images_of_their_own_sizes_read_as_each_alone(reader, tmp_path):
    loaded = tf.saved_model.load(str(export_text_reader(reader, ALPHABET, tmp_path, "lines")))
    rng = np.random.default_rng(1)
    images = [
        rng.integers(0, 256, (16, 40, 1), dtype=np.uint8),
        rng.integers(0, 256, (30, 90, 3), dtype=np.uint8),
    ]
    from_bytes = loaded.serve_image_bytes(tf.constant([png(image) for image in images]))
    for index, image in enumerate(images):
        gray = np.asarray(Image.open(io.BytesIO(png(image))).convert("L"))[..., None]
        alone = loaded.serve(tf.constant(gray[None]))
        assert from_bytes["text"][index].numpy() == alone["text"][0].numpy()
        # PIL's and TensorFlow's RGB-to-grey conversions round a few pixels apart
        np.testing.assert_allclose(
            from_bytes["confidence"][index], alone["confidence"][0], rtol=1e-2
        )


def test_an_image_twice_as_high_reads_as_the_image_at_the_model_height(reader, tmp_path):
    loaded = tf.saved_model.load(str(export_text_reader(reader, ALPHABET, tmp_path, "x")))
    image = np.random.default_rng(2).integers(0, 256, (1, 16, 60, 1), dtype=np.uint8)
    doubled = image.repeat(2, axis=1).repeat(2, axis=2)  # 32 x 120: resized back exactly
    assert loaded.serve(tf.constant(doubled))["text"].numpy().tolist() == (
        loaded.serve(tf.constant(image))["text"].numpy().tolist()
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least 1 pixel"):
        loaded.serve(tf.zeros((1, 16, 0, 1), tf.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError, match="1 .*3 .*or 4"):
        loaded.serve(tf.zeros((1, 16, 20, 2), tf.uint8))


def test_an_alphabet_that_does_not_fit_the_reader_is_refused(reader, tmp_path):
    with pytest.raises(ValueError, match=r"outputs 4 ids .* alphabet has 2 characters"):
        export_text_reader(reader, "ab", tmp_path, "x")
    with pytest.raises(ValueError, match="strategy='viterbi'"):
        export_text_reader(reader, ALPHABET, tmp_path, "x", strategy="viterbi")
    assert not (tmp_path / "x").exists()
