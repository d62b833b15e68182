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
    num_classes = model.output_shape[-1]
    if len(class_names) != num_classes:
        raise ValueError(
            f"The model predicts {num_classes} classes but {len(class_names)} class names "
            f"were given: {list(class_names)}."
        )
    image_spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.uint8, name="images")
    names = list(class_names)

    def write(path: Path) -> None:
        archive = keras.export.ExportArchive()
        archive.track(model)

        @tf.function(input_signature=[image_spec])
        def serve(images):
            probabilities = tf.cast(model(images, training=False), tf.float32)
            class_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
            class_name = tf.gather(tf.constant(names), class_id)
            return {
                "probabilities": probabilities,
                "class_id": class_id,
                "class_name": class_name,
            }

        archive.add_endpoint(SERVING_ENDPOINT, serve)
        archive.write_out(str(path), verbose=False)

    return _write_versioned(write, export_dir, model_name)
