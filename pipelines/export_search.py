"""SavedModels of the search task: ``embed(images) -> vectors`` and ``search(images, k)``.

Both take raw images of any size — ``uint8 [batch, height, width, channels]``
(resized in the graph to the model's size) or encoded bytes (JPEG, PNG, GIF,
BMP) — and load with `tf.saved_model.load` without convseq. The search model
holds the catalog's unit vectors and item ids as weights (`CatalogSearch`,
exact cosine search), so it answers alone; ``assets.extra/items.csv`` lists
each item's id and label.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from common.validation import check_positive_int
from models.layers.catalog_search import CatalogSearch
from pipelines.export import (
    EXTRA_DIR,
    IMAGE_BYTES_ENDPOINT,
    export_endpoint,
    outputs_of_encoded_images,
)

SEARCH_ENDPOINT = "search"
SEARCH_IMAGE_BYTES_ENDPOINT = "search_image_bytes"
ITEMS_FILE = "items.csv"
MAX_ITEMS_IN_MODEL = 100_000
"""Largest catalog exported inside a search SavedModel (``items x dimension`` floats)."""


def image_specs(model: keras.Model):
    """``(uint8 images [batch, h, w, channels], string image_bytes [batch])`` input specs."""
    channels = model.input_shape[-1]
    return (
        tf.TensorSpec((None, None, None, channels), tf.uint8, name="images"),
        tf.TensorSpec((None,), tf.string, name="image_bytes"),
    )


def resized_outputs(model: keras.Model, images):
    """The model's float32 outputs for uint8 images of any size, resized to its own."""
    height, width = model.input_shape[1:3]
    if height and width:
        resized = tf.image.resize(images, (height, width))
        images = tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)
    return tf.cast(model(images, training=False), tf.float32)


def export_embedder(embedder: keras.Model, export_dir: str | os.PathLike, model_name: str) -> Path:
    """Exports ``serve(images) -> {"embedding": float32 [batch, dimension]}``.

    ``serve_image_bytes(image_bytes)`` takes encoded images instead.

    Returns:
        The new version's folder.
    """
    images_spec, bytes_spec = image_specs(embedder)

    @tf.function(input_signature=[images_spec])
    def serve(images):
        return {"embedding": resized_outputs(embedder, images)}

    @tf.function(input_signature=[bytes_spec])
    def serve_image_bytes(image_bytes):
        return {"embedding": outputs_of_encoded_images(embedder, image_bytes)}

    return export_endpoint(
        [embedder],
        serve,
        export_dir,
        model_name,
        extra_endpoints={IMAGE_BYTES_ENDPOINT: serve_image_bytes},
    )


def export_catalog_search(
    embedder: keras.Model,
    item_ids: np.ndarray,
    vectors: np.ndarray,
    item_labels: Sequence[str],
    export_dir: str | os.PathLike,
    model_name: str,
    top_k: int = 10,
) -> Path:
    """Exports a SavedModel that finds the catalog items most like each image.

    Endpoints, each returning ``item_ids`` (int64 ``[batch, k]``) and
    ``scores`` (float32 cosine similarities), most similar first; ``k`` is
    capped at the catalog size:

    - ``serve(images)`` (also ``serving_default``): the ``top_k`` best;
    - ``search(images, k)``: the ``k`` best (int32 scalar ``k``);
    - ``serve_image_bytes(image_bytes)`` and
      ``search_image_bytes(image_bytes, k)``: the same for encoded images.

    Args:
        embedder: The embedding model (uint8 images in).
        item_ids: ``int [items]`` catalog item ids.
        vectors: ``float [items, dimension]`` their embeddings.
        item_labels: One label per item, written to ``assets.extra/items.csv``.
        export_dir: Root folder of exports.
        model_name: Subfolder per model; versions are numbered inside it.
        top_k: Results of the endpoints without ``k``.

    Returns:
        The new version's folder.

    Raises:
        ValueError: On an empty catalog, more than `MAX_ITEMS_IN_MODEL`
            items, or ids, vectors and labels of different lengths.
    """
    check_positive_int("top_k", top_k)
    item_ids = np.asarray(item_ids, np.int64).reshape(-1)
    if not len(item_ids):
        raise ValueError("The catalog is empty: a search model needs at least one item.")
    if len(item_ids) > MAX_ITEMS_IN_MODEL:
        raise ValueError(
            f"The catalog has {len(item_ids)} items; a search SavedModel holds at most "
            f"{MAX_ITEMS_IN_MODEL}. Serve the embed model with the run's index instead."
        )
    if len(item_labels) != len(item_ids):
        raise ValueError(
            f"Expected one label per item; received {len(item_labels)} labels for "
            f"{len(item_ids)} items."
        )
    catalog = CatalogSearch(len(item_ids), embedder.output_shape[-1], name="catalog_search")
    catalog.set_catalog(item_ids, vectors)
    images_spec, bytes_spec = image_specs(embedder)
    k_spec = tf.TensorSpec((), tf.int32, name="k")

    def results(queries, k):
        found, scores = catalog(queries, k=k)
        return {"item_ids": found, "scores": scores}

    @tf.function(input_signature=[images_spec])
    def serve(images):
        return results(resized_outputs(embedder, images), top_k)

    @tf.function(input_signature=[images_spec, k_spec])
    def search(images, k):
        return results(resized_outputs(embedder, images), k)

    @tf.function(input_signature=[bytes_spec])
    def serve_image_bytes(image_bytes):
        return results(outputs_of_encoded_images(embedder, image_bytes), top_k)

    @tf.function(input_signature=[bytes_spec, k_spec])
    def search_image_bytes(image_bytes, k):
        return results(outputs_of_encoded_images(embedder, image_bytes), k)

    return export_endpoint(
        [embedder, catalog],
        serve,
        export_dir,
        model_name,
        extra_endpoints={
            SEARCH_ENDPOINT: search,
            IMAGE_BYTES_ENDPOINT: serve_image_bytes,
            SEARCH_IMAGE_BYTES_ENDPOINT: search_image_bytes,
        },
        write_extra=lambda path: write_items(items_file(path), item_ids, item_labels),
    )


def write_items(path: Path, item_ids: np.ndarray, item_labels: Sequence[str]) -> Path:
    """Writes ``item_id,label`` rows (a header first) to ``path``; returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["item_id", "label"])
        writer.writerows(zip(np.asarray(item_ids).tolist(), item_labels, strict=True))
    return path


def read_items(path: Path) -> dict[int, str]:
    """``{item_id: label}`` from a file `write_items` wrote."""
    with Path(path).open(newline="", encoding="utf-8") as file:
        return {int(row["item_id"]): row["label"] for row in csv.DictReader(file)}


def items_file(export_path: Path) -> Path:
    """Where a search export lists its items."""
    return export_path / EXTRA_DIR / ITEMS_FILE
