"""SavedModel export with preprocessing inside the serving signature.

Exports follow TensorFlow Serving's layout ``<export_dir>/<model_name>/<version>/``
with versions 1, 2, ..., each written through `pipelines.export_versions`
(staged, then renamed into place).

Next to the SavedModel, ``assets.extra/`` (the folder TensorFlow Serving
leaves alone) holds ``metadata.json`` — model name, task, every signature's
inputs and outputs with dtypes and shapes, label names, the training run id
and its test metrics — and ``labels.txt``, one label per line.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import keras
import mlflow
import tensorflow as tf

from pipelines.export_versions import write_versioned

SERVING_ENDPOINT = "serve"
IMAGE_BYTES_ENDPOINT = "serve_image_bytes"
EXTRA_DIR = "assets.extra"
METADATA_FILE = "metadata.json"
LABELS_FILE = "labels.txt"


def _spec_json(dtype, shape) -> dict:
    return {"dtype": dtype.name, "shape": [None if n is None else int(n) for n in shape]}


def _signature_json(function) -> dict:
    concrete = function.get_concrete_function()
    return {
        "inputs": {s.name: _spec_json(s.dtype, s.shape) for s in function.input_signature},
        "outputs": {
            name: _spec_json(tensor.dtype, tensor.shape)
            for name, tensor in concrete.structured_outputs.items()
        },
    }


def _training_run() -> dict:
    """The active MLflow run's id, task and test metrics (empty outside a run)."""
    run = mlflow.active_run()
    if run is None:
        return {"training_run_id": None, "task": None, "metrics": {}}
    data = mlflow.get_run(run.info.run_id).data
    return {
        "training_run_id": run.info.run_id,
        "tracking_uri": mlflow.get_tracking_uri(),
        "task": data.params.get("task"),
        "metrics": {k: v for k, v in sorted(data.metrics.items()) if k.startswith("test_")},
    }


def write_metadata(
    path: Path, model_name: str, endpoints: Mapping, labels: Sequence[str] = ()
) -> None:
    """Writes ``assets.extra/metadata.json`` (and ``labels.txt``) into a SavedModel folder."""
    extra = path / EXTRA_DIR
    extra.mkdir(parents=True, exist_ok=True)
    metadata = {
        "model_name": model_name,
        **_training_run(),
        "signatures": {name: _signature_json(fn) for name, fn in endpoints.items()},
        "serving_default": next(iter(endpoints)),
        "labels": list(labels),
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "created_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    (extra / METADATA_FILE).write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    if labels:
        (extra / LABELS_FILE).write_text("".join(f"{label}\n" for label in labels), "utf-8")


def export_endpoint(
    tracked: Sequence,
    serve,
    export_dir: str | os.PathLike,
    model_name: str,
    *,
    extra_endpoints: Mapping | None = None,
    labels: Sequence[str] = (),
    write_extra: Callable[[Path], None] | None = None,
) -> Path:
    """Writes a SavedModel whose ``serve`` endpoint (and ``serving_default``) is ``serve``.

    Args:
        tracked: Keras layers/models whose variables and lookup tables
            ``serve`` uses.
        serve: A `tf.function` with an ``input_signature``.
        export_dir: Root folder of exports.
        model_name: Subfolder per model; versions are numbered inside it.
        extra_endpoints: More named signatures (`tf.function`s with an
            ``input_signature``).
        labels: Label names, also written to ``assets.extra/labels.txt``.
        write_extra: Writes more files into the version folder before it
            is moved into place (it gets the staged folder).

    Returns:
        The new version's folder.
    """
    endpoints = {SERVING_ENDPOINT: serve, **(extra_endpoints or {})}

    def write(path: Path) -> None:
        archive = keras.export.ExportArchive()
        for item in tracked:
            archive.track(item)
        for name, function in endpoints.items():
            archive.add_endpoint(name, function)
        archive.write_out(str(path), verbose=False)
        write_metadata(path, model_name, endpoints, labels)
        if write_extra is not None:
            write_extra(path)

    return write_versioned(write, export_dir, model_name)


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

    @tf.function(input_signature=[tf.TensorSpec((None,), tf.string, name="image_bytes")])
    def serve_image_bytes(image_bytes):
        return _class_outputs(outputs_of_encoded_images(model, image_bytes), names)

    return export_endpoint(
        [model],
        serve,
        export_dir,
        model_name,
        extra_endpoints={IMAGE_BYTES_ENDPOINT: serve_image_bytes},
        labels=names,
    )


def outputs_of_encoded_images(model: keras.Model, image_bytes):
    """A model's float32 outputs for encoded images (JPEG, PNG, GIF, BMP), decoded in the graph.

    For a model of fixed input size every image is resized to it and the
    batch runs at once; a model that takes any size (it resizes inside) runs
    once per image.
    """
    height, width, channels = model.input_shape[1:]

    def decode(data):
        return tf.io.decode_image(data, channels=channels, expand_animations=False)

    if height and width:

        def to_model_size(data):
            resized = tf.image.resize(decode(data), (height, width))
            return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)

        images = tf.map_fn(
            to_model_size,
            image_bytes,
            fn_output_signature=tf.TensorSpec((height, width, channels), tf.uint8),
        )
        return tf.cast(model(images, training=False), tf.float32)
    return tf.map_fn(
        lambda data: tf.cast(model(decode(data)[None], training=False)[0], tf.float32),
        image_bytes,
        fn_output_signature=tf.TensorSpec((model.output_shape[-1],), tf.float32),
    )


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

    return export_endpoint([vectorizer, model], serve, export_dir, model_name, labels=names)


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
        # probabilities, or a CRF tagger's one-hot Viterbi path: argmax gives the tags
        outputs = model(encoder.model_inputs(encoded), training=False)
        lengths = tf.cast(encoder.tokens(sentences).row_lengths(), tf.int32)
        inside = tf.sequence_mask(lengths, tf.shape(outputs)[1])
        tag_ids = tf.where(inside, tf.argmax(outputs, axis=-1, output_type=tf.int32), -1)
        tags = tf.where(inside, tf.gather(tf.constant(names), tf.maximum(tag_ids, 0)), "")
        return {"tags": tags, "tag_ids": tag_ids, "lengths": lengths}

    return export_endpoint([*encoder.layers(), model], serve, export_dir, model_name, labels=names)


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
) -> Path:
    """Exports an encoder-decoder whose decoding loop runs inside the SavedModel.

    ``serve`` takes one input (``input_spec``: raw source texts for
    translation, uint8 images for captioning), runs ``preprocess`` and
    ``decode`` and returns ``text`` (``string [batch]``: tokens joined by
    spaces, up to the end token) and ``token_ids`` (``int64 [batch,
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
        return {"text": text, "token_ids": token_ids}

    tracked = [seq2seq.training, seq2seq.encoder, seq2seq.decoder_step]
    if isinstance(preprocess, keras.layers.Layer):
        tracked.insert(0, preprocess)
    return export_endpoint(tracked, serve, export_dir, model_name)
