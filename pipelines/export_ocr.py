"""The SavedModel of a text reader: ``serve(images) -> text, confidence``, raw images in.

Images of any size and 1, 3 or 4 channels go in as ``uint8 [batch, height,
width, channels]`` (one size per batch) or as encoded bytes (JPEG, PNG,
GIF, BMP; any size each). In the graph they become grayscale, are resized
to the reader's height with their aspect ratio kept (so a line keeps its
columns), read by the model, and decoded by `models.ctc` (greedy or beam
search). ``assets.extra/alphabet.txt`` holds the alphabet. The SavedModel
loads with `tf.saved_model.load` alone, without convseq.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import tensorflow as tf

from common.validation import check_positive_int
from models.ctc import check_strategy, ctc_decode, ids_to_text
from models.ocr import read_logits, reader_conv, reader_height
from pipelines.export import EXTRA_DIR, IMAGE_BYTES_ENDPOINT, export_endpoint

ALPHABET_FILE = "alphabet.txt"


def _grayscale(images):
    """``uint8 [batch, h, w, 1|3|4]`` -> ``float32 [batch, h, w, 1]`` (alpha dropped)."""
    channels = tf.shape(images)[-1]
    checked = tf.debugging.assert_equal(
        tf.reduce_any([tf.equal(channels, count) for count in (1, 3, 4)]),
        True,
        message="images must have 1 (grayscale), 3 (RGB) or 4 (RGBA) channels",
    )
    with tf.control_dependencies([checked]):  # before a conversion fails on other channels
        pixels = tf.cast(tf.identity(images), tf.float32)
        return tf.cond(
            channels == 1,
            lambda: pixels[..., :1],
            lambda: tf.image.rgb_to_grayscale(pixels[..., :3]),
        )


def reader_inputs(images, height: int, min_width: int):
    """Images as the reader takes them: ``uint8 [batch, height, width', 1]``, aspect kept.

    Args:
        images: ``uint8 [batch, h, w, channels]``, one size for the batch.
        height: The reader's image height.
        min_width: Narrowest width kept (so the reader has a column to read).
    """
    shape = tf.shape(images)
    checked = tf.debugging.assert_positive(
        shape[1:3], message="images must be at least 1 pixel high and 1 pixel wide"
    )
    with tf.control_dependencies([checked]):  # before the resize fails on an empty image
        shape = tf.identity(shape)
        width = tf.cast(
            tf.round(tf.cast(shape[2], tf.float32) * height / tf.cast(shape[1], tf.float32)),
            tf.int32,
        )
        width = tf.maximum(width, min_width)
        resized = tf.image.resize(_grayscale(tf.identity(images)), tf.stack([height, width]))
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def export_text_reader(
    reader: keras.Model,
    alphabet: str,
    export_dir: str | os.PathLike,
    model_name: str,
    strategy: str = "greedy",
    beam_width: int = 10,
    min_width: int | None = None,
) -> Path:
    """Exports a text reader as ``serve(images) -> {"text", "confidence"}``.

    Endpoints, both returning ``text`` (``string [batch]``) and
    ``confidence`` (``float32 [batch]``, see `models.ctc.ctc_decode`):

    - ``serve(images)`` (also ``serving_default``): ``uint8 [batch, height,
      width, channels]``;
    - ``serve_image_bytes(image_bytes)``: ``string [batch]`` encoded images,
      each of its own size.

    Args:
        reader: A `models.ocr.text_reader`.
        alphabet: Its characters: id ``i + 1`` is ``alphabet[i]``.
        export_dir: Root folder of exports.
        model_name: Subfolder per model; versions are numbered inside it.
        strategy: ``"greedy"`` or ``"beam_search"`` decoding.
        beam_width: Paths kept by beam search.
        min_width: Narrowest image width the reader is given (narrower ones are
            stretched); the narrowest its conv blocks leave a column of when ``None``.

    Returns:
        The new version's folder.

    Raises:
        ValueError: If the alphabet does not match the reader's outputs, or
            on an unknown strategy.
    """
    height = reader_height(reader)
    if reader.output_shape[-1] != len(alphabet) + 1:
        raise ValueError(
            f"Invalid value for argument `alphabet`. The reader outputs {reader.output_shape[-1]} "
            f"ids (blank + {reader.output_shape[-1] - 1} characters); the alphabet has "
            f"{len(alphabet)} characters. Received alphabet={alphabet!r}."
        )
    check_strategy(strategy)
    check_positive_int("beam_width", beam_width)
    if min_width is None:
        min_width = reader_conv(reader).narrowest_width()

    def read(images):
        logits = read_logits(reader, reader_inputs(images, height, min_width))
        ids, confidence = ctc_decode(logits, strategy=strategy, beam_width=beam_width)
        return ids_to_text(ids, alphabet), confidence

    @tf.function(input_signature=[tf.TensorSpec((None, None, None, None), tf.uint8, name="images")])
    def serve(images):
        text, confidence = read(images)
        return {"text": text, "confidence": confidence}

    @tf.function(input_signature=[tf.TensorSpec((None,), tf.string, name="image_bytes")])
    def serve_image_bytes(image_bytes):
        def read_one(data):
            image = tf.io.decode_image(data, channels=1, expand_animations=False)
            text, confidence = read(image[tf.newaxis])
            return text[0], confidence[0]

        text, confidence = tf.map_fn(
            read_one,
            image_bytes,
            fn_output_signature=(tf.TensorSpec((), tf.string), tf.TensorSpec((), tf.float32)),
        )
        return {"text": text, "confidence": confidence}

    def write_alphabet(path: Path) -> None:
        extra = path / EXTRA_DIR
        extra.mkdir(parents=True, exist_ok=True)
        (extra / ALPHABET_FILE).write_text(alphabet, encoding="utf-8")

    return export_endpoint(
        [reader],
        serve,
        export_dir,
        model_name,
        extra_endpoints={IMAGE_BYTES_ENDPOINT: serve_image_bytes},
        write_extra=write_alphabet,
    )
