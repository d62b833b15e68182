"""SavedModel export with preprocessing inside the serving signature.

Exports follow TensorFlow Serving's layout ``<export_dir>/<model_name>/<version>/``
with versions 1, 2, ...; a version is written to a temporary folder and
renamed into place, so a crash never leaves a half-written version and an
existing version is never overwritten.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import keras
import tensorflow as tf

SERVING_ENDPOINT = "serve"


def existing_versions(model_dir: str | os.PathLike) -> list[int]:
    """Versions already exported under ``model_dir`` (numeric folder names), sorted."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        return []
    return sorted(
        int(path.name) for path in model_dir.iterdir() if path.is_dir() and path.name.isdigit()
    )


def _write_versioned(write, export_dir, model_name: str) -> Path:
    """Calls ``write(tmp_path)`` then renames the folder to the next version."""
    model_dir = Path(export_dir) / model_name
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=model_dir))
    try:
        write(staging / "model")
        while True:
            version = (existing_versions(model_dir) or [0])[-1] + 1
            target = model_dir / str(version)
            try:
                os.rename(staging / "model", target)
            except OSError:
                if target.exists():  # another export took this version; take the next
                    continue
                raise
            return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def export_endpoint(
    tracked: Sequence,
    serve,
    export_dir: str | os.PathLike,
    model_name: str,
) -> Path:
    """Writes a SavedModel whose ``serve`` endpoint (and ``serving_default``) is ``serve``.

    Args:
        tracked: Keras layers/models whose variables and lookup tables
            ``serve`` uses.
        serve: A `tf.function` with an ``input_signature``.
        export_dir: Root folder of exports.
        model_name: Subfolder per model; versions are numbered inside it.

    Returns:
        The new version's folder.
    """

    def write(path: Path) -> None:
        archive = keras.export.ExportArchive()
        for item in tracked:
            archive.track(item)
        archive.add_endpoint(SERVING_ENDPOINT, serve)
        archive.write_out(str(path), verbose=False)

    return _write_versioned(write, export_dir, model_name)


def _class_outputs(probabilities, names: list[str]) -> dict:
    class_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
    return {
        "probabilities": probabilities,
        "class_id": class_id,
        "class_name": tf.gather(tf.constant(names), class_id),
    }


def _check_class_names(num_classes: int, class_names: Sequence[str]) -> list[str]:
    if len(class_names) != num_classes:
        raise ValueError(
            f"The model predicts {num_classes} classes but {len(class_names)} class names "
            f"were given: {list(class_names)}."
        )
    return list(class_names)


def export_image_classifier(
    model: keras.Model,
    export_dir: str | os.PathLike,
    model_name: str,
    class_names: Sequence[str],
) -> Path:
    """Exports an image classifier that serves raw ``uint8`` images.

    The SavedModel's ``serve`` function (also its ``serving_default``
    signature) takes ``images``: ``uint8 [batch, height, width, channels]``
    and returns ``probabilities`` (float32 ``[batch, classes]``), ``class_id``
    (int32 ``[batch]``) and ``class_name`` (string ``[batch]``). It loads with
    `tf.saved_model.load` without convseq installed.

    Args:
        model: A Keras model taking raw uint8 images (scaling inside).
        export_dir: Root folder of exports.
        model_name: Subfolder per model; versions are numbered inside it.
        class_names: Names of the classes, in label order.

    Returns:
        The new version's folder, e.g. ``exports/fashion_mnist_cnn/3``.

    Raises:
        ValueError: If ``class_names`` does not match the model's outputs.
    """
    names = _check_class_names(model.output_shape[-1], class_names)
    image_spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.uint8, name="images")

    @tf.function(input_signature=[image_spec])
    def serve(images):
        return _class_outputs(tf.cast(model(images, training=False), tf.float32), names)

    return export_endpoint([model], serve, export_dir, model_name)


def export_text_classifier(
    vectorizer: keras.layers.Layer,
    model: keras.Model,
    export_dir: str | os.PathLike,
    model_name: str,
    class_names: Sequence[str],
) -> Path:
    """Exports a text classifier that serves raw strings.

    ``serve`` takes ``texts``: ``string [batch]`` and returns
    ``probabilities`` (float32 ``[batch, classes]``), ``class_id`` and
    ``class_name``. The vectorizer's vocabulary travels inside the SavedModel.

    Args:
        vectorizer: The adapted `TextVectorization` (strings -> token ids).
        model: The classifier over token ids: one sigmoid unit (two classes)
            or a softmax.
        export_dir: Root folder of exports.
        model_name: Subfolder per model.
        class_names: Names of the classes, in label order.

    Returns:
        The new version's folder.
    """
    units = model.output_shape[-1]
    names = _check_class_names(2 if units == 1 else units, class_names)

    @tf.function(input_signature=[tf.TensorSpec((None,), tf.string, name="texts")])
    def serve(texts):
        scores = tf.cast(model(vectorizer(texts), training=False), tf.float32)
        probabilities = tf.concat([1.0 - scores, scores], axis=-1) if units == 1 else scores
        return _class_outputs(probabilities, names)

    return export_endpoint([vectorizer, model], serve, export_dir, model_name)


def export_tagger(
    encoder,
    model: keras.Model,
    export_dir: str | os.PathLike,
    model_name: str,
    tag_names: Sequence[str],
) -> Path:
    """Exports a sequence tagger that serves raw sentences.

    ``serve`` takes ``sentences``: ``string [batch]``, tokenized on
    whitespace inside, and returns ``tags`` (string ``[batch, time]``, ``""``
    past each sentence's end), ``tag_ids`` (int32, -1 past the end) and
    ``lengths`` (int32 ``[batch]`` tokens per sentence).

    Args:
        encoder: The `models.tagging.TaggingEncoder` of training.
        model: The tagger over the encoder's ids.
        export_dir: Root folder of exports.
        model_name: Subfolder per model.
        tag_names: Tag of each output index.

    Returns:
        The new version's folder.
    """
    names = _check_class_names(model.output_shape[-1], tag_names)

    @tf.function(input_signature=[tf.TensorSpec((None,), tf.string, name="sentences")])
    def serve(sentences):
        encoded = encoder(sentences)
        inputs = [encoded["word_ids"]] + ([encoded["char_ids"]] if "char_ids" in encoded else [])
        probabilities = model(inputs if len(inputs) > 1 else inputs[0], training=False)
        lengths = tf.cast(encoder.tokens(sentences).row_lengths(), tf.int32)
        inside = tf.sequence_mask(lengths, tf.shape(probabilities)[1])
        tag_ids = tf.where(inside, tf.argmax(probabilities, axis=-1, output_type=tf.int32), -1)
        tags = tf.where(inside, tf.gather(tf.constant(names), tf.maximum(tag_ids, 0)), "")
        return {"tags": tags, "tag_ids": tag_ids, "lengths": lengths}

    return export_endpoint([*encoder.layers(), model], serve, export_dir, model_name)


def export_forecaster(model: keras.Model, export_dir: str | os.PathLike, model_name: str) -> Path:
    """Exports a forecaster that serves raw windows in the series' own units.

    ``serve`` takes ``windows``: ``float32 [batch, window, features]`` and
    returns ``forecast``: ``float32 [batch, horizon]``; normalization and its
    inverse are inside.

    Returns:
        The new version's folder.
    """
    window_spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="windows")

    @tf.function(input_signature=[window_spec])
    def serve(windows):
        return {"forecast": tf.cast(model(windows, training=False), tf.float32)}

    return export_endpoint([model], serve, export_dir, model_name)


def export_text_generator(
    seq2seq,
    preprocess,
    input_spec: tf.TensorSpec,
    target_vocabulary: Sequence[str],
    decode,
    end_token: str,
    export_dir: str | os.PathLike,
    model_name: str,
    output_name: str,
) -> Path:
    """Exports an encoder-decoder whose decoding loop runs inside the SavedModel.

    ``serve`` takes one input (``input_spec``: raw source texts for
    translation, uint8 images for captioning), runs ``preprocess`` and
    ``decode`` and returns ``output_name`` (``string [batch]``: tokens joined
    by spaces, up to the end token) and ``token_ids`` (``int64 [batch,
    max_length]``).

    Args:
        seq2seq: The `models.translation.Seq2Seq` (or alike).
        preprocess: Raw input -> what the encoder takes (a Keras layer or a
            function of TensorFlow ops).
        input_spec: The raw input's `tf.TensorSpec` (its name is the
            signature's input name).
        target_vocabulary: Token of each id.
        decode: ``encoder input -> token ids``: greedy or beam search.
        end_token: The end token, dropped from the text.
        export_dir: Root folder of exports.
        model_name: Subfolder per model.
        output_name: Name of the text output (``"translation"``, ``"caption"``).

    Returns:
        The new version's folder.
    """
    vocabulary = tf.constant(list(target_vocabulary))
    end_id = list(target_vocabulary).index(end_token)

    @tf.function(input_signature=[input_spec])
    def serve(inputs):
        token_ids = decode(preprocess(inputs))
        ended = tf.cumsum(tf.cast(tf.equal(token_ids, end_id), tf.int32), axis=1) > 0
        keep = tf.logical_and(tf.logical_not(ended), token_ids > 0)
        words = tf.where(keep, tf.gather(vocabulary, token_ids), "")
        joined = tf.strings.reduce_join(words, axis=1, separator=" ")
        text = tf.strings.strip(tf.strings.regex_replace(joined, " +", " "))
        return {output_name: text, "token_ids": token_ids}

    tracked = [seq2seq.training, seq2seq.encoder, seq2seq.decoder_step]
    if isinstance(preprocess, keras.layers.Layer):
        tracked.insert(0, preprocess)
    return export_endpoint(tracked, serve, export_dir, model_name)
