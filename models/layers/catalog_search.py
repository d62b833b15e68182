"""Exact nearest-catalog-item search inside a model: a matrix product and a top-k.

The catalog's unit vectors and item ids are weights of the layer (not
trained), so a SavedModel that holds it answers ``search(images, k)`` alone,
without an index file or library. Memory is ``items x dimension`` floats;
past about 100,000 items use an approximate index outside the model instead.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from common.validation import check_positive_int


@keras.saving.register_keras_serializable(package="convseq")
class CatalogSearch(keras.layers.Layer):
    """The ``k`` catalog items most similar (cosine) to each query vector.

    Called on query vectors ``float [batch, dimension]`` (normalised inside)
    and ``k`` (a Python or scalar tensor int), it returns ``(item_ids int64
    [batch, k], scores float32 [batch, k])``, most similar first. ``k`` is
    capped at the catalog size; below 1 it is an ``InvalidArgumentError``.

    Args:
        items: Number of catalog items.
        dimension: Length of each vector.
        **kwargs: Base `keras.layers.Layer` arguments (``name``).

    Example:
        >>> search = CatalogSearch(len(ids), 64)
        >>> search.set_catalog(ids, vectors)
        >>> item_ids, scores = search(embedder(images), k=10)
    """

    def __init__(self, items: int, dimension: int, **kwargs):
        super().__init__(dtype="float32", **kwargs)
        self.items = check_positive_int("items", items)
        self.dimension = check_positive_int("dimension", dimension)
        self.vectors = self.add_weight(
            shape=(self.items, self.dimension),
            initializer="zeros",
            trainable=False,
            name="catalog_vectors",
        )
        self.item_ids = self.add_weight(
            shape=(self.items,),
            initializer="zeros",
            dtype="int64",
            trainable=False,
            name="catalog_item_ids",
        )
        self.built = True

    def set_catalog(self, item_ids, vectors) -> None:
        """Stores the catalog: ``int [items]`` ids and ``float [items, dimension]`` vectors."""
        vectors = np.asarray(vectors, np.float32)
        item_ids = np.asarray(item_ids, np.int64).reshape(-1)
        if vectors.shape != (self.items, self.dimension) or item_ids.shape != (self.items,):
            raise ValueError(
                f"Expected {self.items} item ids and vectors of shape ({self.items}, "
                f"{self.dimension}). Received {item_ids.shape[0]} ids and vectors of shape "
                f"{vectors.shape}."
            )
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        self.vectors.assign(vectors / norms)
        self.item_ids.assign(item_ids)

    def call(self, queries, k=10):
        queries = tf.math.l2_normalize(tf.cast(queries, tf.float32), axis=-1)
        k = tf.cast(k, tf.int32)
        tf.debugging.assert_positive(k, message="k (results per query) must be at least 1")
        k = tf.minimum(k, self.items)
        scores, positions = tf.math.top_k(tf.matmul(queries, self.vectors, transpose_b=True), k=k)
        return tf.gather(self.item_ids, positions), scores

    def compute_output_spec(self, queries, k=10):
        batch = queries.shape[0]
        width = k if isinstance(k, int) else None
        return (
            keras.KerasTensor((batch, width), dtype="int64"),
            keras.KerasTensor((batch, width), dtype="float32"),
        )

    def get_config(self):
        config = super().get_config()
        config.pop("dtype", None)
        return {**config, "items": self.items, "dimension": self.dimension}
