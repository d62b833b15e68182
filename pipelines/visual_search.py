"""What the search task does with a trained embedding model: embed, index, evaluate.

- `embed_images`: the vectors of uint8 images, one batch at a time;
- `index_catalog`: streams a catalog through the embedder into indexes (so
  memory stays bounded by a batch of images plus the index itself);
- `retrieval_metrics`: precision, recall and mAP at k by same class;
- `near_duplicate_rank1`: the share of altered copies of catalog items
  (crop, flip, brightness, JPEG) whose rank-1 result is the item;
- `index_recall`: the share of the exact top-k an approximate index finds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import keras
import numpy as np

from common.validation import check_positive_int
from data.near_duplicates import near_duplicates
from pipelines.metrics import retrieval_scores
from pipelines.vector_index import ExactIndex, VectorIndex

NEAR_DUPLICATE_QUERIES = 1000
"""Catalog items altered into near-duplicate queries when evaluating a search run."""


def embed_images(embedder: keras.Model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """``float32 [n, dimension]`` vectors of ``uint8 [n, h, w, c]`` images, batch by batch."""
    check_positive_int("batch_size", batch_size)
    vectors = np.empty((len(images), embedder.output_shape[-1]), np.float32)
    for start in range(0, len(images), batch_size):
        batch = slice(start, start + batch_size)
        vectors[batch] = _embedded(embedder, images[batch])
    return vectors


def _embedded(embedder: keras.Model, images) -> np.ndarray:
    """One batch's vectors, by the model's own compiled predict step (traced once per model)."""
    return np.asarray(embedder.predict_on_batch(images), np.float32)


def catalog_batches(
    images: np.ndarray, batch_size: int = 256
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(item_ids, images)`` batches of an in-memory catalog; an item's id is its position."""
    for start in range(0, len(images), batch_size):
        stop = min(start + batch_size, len(images))
        yield np.arange(start, stop, dtype=np.int64), images[start:stop]


def index_catalog(
    embedder: keras.Model,
    batches: Iterable[tuple[np.ndarray, np.ndarray]],
    indexes: Iterable[VectorIndex],
) -> int:
    """Embeds ``(item_ids, uint8 images)`` batches and adds them to every index.

    Only one batch of images and its vectors are held at a time, so a catalog
    of any size streams through (from a generator over files, say).

    Returns:
        The number of items added.

    Raises:
        ValueError: If the catalog has no items (the indexes stay empty).
    """
    indexes = list(indexes)
    added = 0
    for ids, images in batches:
        if not len(ids):
            continue
        vectors = _embedded(embedder, images)
        for index in indexes:
            index.add(ids, vectors)
        added += len(ids)
    if not added:
        raise ValueError(
            "The catalog is empty: there is no image to index. Point the task at a dataset "
            "or folder with images in its training split."
        )
    return added


def retrieval_metrics(
    index: VectorIndex,
    query_vectors: np.ndarray,
    query_labels: np.ndarray,
    catalog_labels: np.ndarray,
    k: int,
) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Retrieval scores at ``k`` by same class, and what the index found.

    Item ids must be positions in ``catalog_labels``. Metric names end in
    ``_at_<k>`` (``precision_at_10``, ``recall_at_10``, ``map_at_10``).

    Returns:
        ``(metrics, item ids [queries, k], similarities [queries, k])``.
    """
    found, similarities = index.query(query_vectors, k)
    scores = retrieval_scores(catalog_labels[found], query_labels, catalog_labels)
    metrics = {name.replace("_at_k", f"_at_{k}"): value for name, value in scores.items()}
    return metrics, found, similarities


def near_duplicate_rank1(
    embedder: keras.Model,
    index: VectorIndex,
    catalog_images: np.ndarray,
    count: int = NEAR_DUPLICATE_QUERIES,
    seed: int = 0,
) -> float:
    """The share of altered copies of catalog items that find their item at rank 1.

    ``count`` items (ids = positions in ``catalog_images``) are drawn with
    ``seed`` and altered by `data.near_duplicates.near_duplicates`. A
    rank-1 result whose image equals the original pixel for pixel counts too
    (a catalog may hold the same image twice).
    """
    count = min(check_positive_int("count", count), len(catalog_images))
    chosen = np.sort(np.random.default_rng(seed).choice(len(catalog_images), count, replace=False))
    copies = near_duplicates(catalog_images[chosen], seed=seed)
    found, _ = index.query(embed_images(embedder, copies), 1)
    found = found[:, 0]
    same_image = np.all(
        catalog_images[found].reshape(count, -1) == catalog_images[chosen].reshape(count, -1),
        axis=1,
    )
    return float(np.mean((found == chosen) | same_image))


def index_recall(
    approximate: VectorIndex, exact_found: np.ndarray, query_vectors: np.ndarray
) -> float:
    """The share of the exact top-k ids ``[queries, k]`` that ``approximate`` finds in its top-k."""
    k = exact_found.shape[1]
    found, _ = approximate.query(query_vectors, k)
    hits = [len(np.intersect1d(a, e)) for a, e in zip(found, exact_found, strict=True)]
    return float(np.sum(hits) / exact_found.size)


class RetrievalScores(keras.callbacks.Callback):
    """Adds ``val_precision_at_<k>`` and ``val_map_at_<k>`` to each epoch's logs.

    Queries (held-out images) are searched exactly among a catalog (images
    the model trains on, without the queries), a result right when of the
    query's class: the objective of a search task's tuning. Put it before
    callbacks that read the logs (Keras's ``History`` comes last).

    Args:
        catalog: ``(uint8 images, labels)`` searched.
        queries: ``(uint8 images, labels)`` asked.
        k: Results per query.
    """

    def __init__(self, catalog, queries, k: int = 10):
        super().__init__()
        self.catalog = catalog
        self.queries = queries
        self.k = check_positive_int("k", k)
        if len(catalog[1]) < k:
            raise ValueError(
                f"Retrieval at k={k} needs at least {k} catalog images; the training images "
                f"number {len(catalog[1])}. Use more examples (max_examples)."
            )

    def on_epoch_end(self, epoch, logs=None):
        images, labels = self.catalog
        index = ExactIndex(self.model.output_shape[-1])
        index_catalog(self.model, catalog_batches(images), [index])
        vectors = embed_images(self.model, self.queries[0])
        scores, _, _ = retrieval_metrics(index, vectors, self.queries[1], labels, self.k)
        if logs is not None:
            for name in (f"precision_at_{self.k}", f"map_at_{self.k}"):
                logs[f"val_{name}"] = scores[name]
