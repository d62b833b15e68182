"""The face task's SavedModels: ``embed`` (as search's) and ``verify`` (same person or not).

``verify`` holds the embedder and the threshold chosen on validation people:

- ``serve(image_a, image_b)`` (also ``serving_default``): ``uint8`` faces
  ``[batch, h, w, 3]`` of any size (resized inside) ->
  ``{"same": bool [batch], "score": float32 [batch]}``, the score being the
  cosine of the two embeddings and ``same`` whether it is above the threshold;
- ``serve_image_bytes(image_a_bytes, image_b_bytes)``: the same for encoded
  images (JPEG, PNG, GIF, BMP).

The threshold is also written to ``assets.extra/verification.json`` (with
the false-accept rate it had on validation pairs), so a client can read it
without running the model. The model resizes faces but does not find them:
it expects crops like the training photos (aligned ones when the run
trained with ``align``, which the task records there as ``aligned``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keras
import tensorflow as tf

from pipelines.export import (
    EXTRA_DIR,
    IMAGE_BYTES_ENDPOINT,
    export_endpoint,
    outputs_of_encoded_images,
)
from pipelines.export_search import image_specs, resized_outputs

VERIFICATION_FILE = "verification.json"


def _verdict(first, second, threshold: float) -> dict:
    first, second = tf.math.l2_normalize(first, axis=-1), tf.math.l2_normalize(second, axis=-1)
    score = tf.reduce_sum(first * second, axis=-1)
    return {"same": score > threshold, "score": score}


def export_verifier(
    embedder: keras.Model,
    threshold: float,
    export_dir: str | os.PathLike,
    model_name: str,
    settings: dict | None = None,
) -> Path:
    """Exports the ``verify`` SavedModel (see the module docstring).

    Args:
        embedder: Faces -> unit vectors.
        threshold: Cosine above which two faces are the same person.
        export_dir: Root folder of exports.
        model_name: Subfolder of its versions.
        settings: More facts for ``verification.json`` (e.g. the validation FAR).

    Returns:
        The new version's folder.
    """
    threshold = float(threshold)
    images_spec, bytes_spec = image_specs(embedder)
    first_images = tf.TensorSpec(images_spec.shape, images_spec.dtype, name="image_a")
    second_images = tf.TensorSpec(images_spec.shape, images_spec.dtype, name="image_b")
    first_bytes = tf.TensorSpec(bytes_spec.shape, bytes_spec.dtype, name="image_a_bytes")
    second_bytes = tf.TensorSpec(bytes_spec.shape, bytes_spec.dtype, name="image_b_bytes")

    @tf.function(input_signature=[first_images, second_images])
    def serve(image_a, image_b):
        return _verdict(
            resized_outputs(embedder, image_a), resized_outputs(embedder, image_b), threshold
        )

    @tf.function(input_signature=[first_bytes, second_bytes])
    def serve_image_bytes(image_a_bytes, image_b_bytes):
        return _verdict(
            outputs_of_encoded_images(embedder, image_a_bytes),
            outputs_of_encoded_images(embedder, image_b_bytes),
            threshold,
        )

    def write_threshold(path: Path) -> None:
        facts = {"threshold": threshold, "score": "cosine of the embeddings", **(settings or {})}
        (path / EXTRA_DIR / VERIFICATION_FILE).write_text(json.dumps(facts, indent=2), "utf-8")

    return export_endpoint(
        [embedder],
        serve,
        export_dir,
        model_name,
        extra_endpoints={IMAGE_BYTES_ENDPOINT: serve_image_bytes},
        write_extra=write_threshold,
    )
