"""Embedding a catalog into indexes and scoring retrieval, with a raw-pixel embedder."""

import keras
import numpy as np
import pytest

from pipelines.metrics import retrieval_scores
from pipelines.vector_index import ExactIndex, HNSWIndex
from pipelines.visual_search import (
    RetrievalScores,
    catalog_batches,
    embed_images,
    index_catalog,
    index_recall,
    near_duplicate_rank1,
    retrieval_metrics,
)


def pixels_embedder(shape=(8, 8, 1)):
    """Raw pixels as vectors: similar images have similar vectors."""
    return keras.Sequential([keras.Input(shape), keras.layers.Flatten()])


def blobs(n=60, seed=0):
    """Images of 3 classes: a bright square in one of three places, with noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    images = rng.integers(0, 40, (n, 8, 8, 1)).astype(np.uint8)
    for image, label in zip(images, labels):
        image[1 + 2 * label : 4 + 2 * label, 1 + 2 * label : 4 + 2 * label] = 250
    return images, labels


def test_a_streamed_catalog_lands_in_every_index_with_the_embedders_vectors():
    images, _ = blobs()
    exact, approximate = ExactIndex(64), HNSWIndex(64)
    added = index_catalog(pixels_embedder(), catalog_batches(images, 7), [exact, approximate])
    assert added == 60 and len(exact) == len(approximate) == 60
    vectors = embed_images(pixels_embedder(), images, batch_size=9)
    np.testing.assert_allclose(vectors, images.reshape(60, -1).astype(np.float32))
    found, _ = exact.query(vectors, 1)
    np.testing.assert_array_equal(found[:, 0], np.arange(60))  # each image finds itself
    assert index_recall(approximate, exact.query(vectors, 5)[0], vectors) == 1.0


def test_an_empty_catalog_is_refused_and_leaves_the_indexes_empty():
    index = ExactIndex(64)
    with pytest.raises(ValueError, match="catalog is empty"):
        index_catalog(pixels_embedder(), catalog_batches(np.zeros((0, 8, 8, 1), np.uint8)), [index])
    assert len(index) == 0


def test_retrieval_metrics_are_named_by_k_and_equal_the_scores_of_the_found_labels():
    images, labels = blobs()
    index = ExactIndex(64)
    index_catalog(pixels_embedder(), catalog_batches(images[:45]), [index])
    queries = embed_images(pixels_embedder(), images[45:])
    metrics, found, similarities = retrieval_metrics(index, queries, labels[45:], labels[:45], 4)
    np.testing.assert_allclose(similarities, index.query(queries, 4)[1])
    assert set(metrics) == {"precision_at_4", "recall_at_4", "map_at_4"}
    expected = retrieval_scores(labels[:45][found], labels[45:], labels[:45])
    assert metrics["precision_at_4"] == expected["precision_at_k"] == 1.0  # separable classes
    assert metrics["recall_at_4"] == pytest.approx(4 / 15)


def test_near_duplicates_of_distinct_images_find_them_and_twins_count():
    rng = np.random.default_rng(1)
    smooth = np.repeat(np.repeat(rng.integers(0, 256, (40, 4, 4, 1)), 2, 1), 2, 2)
    images = smooth.astype(np.uint8)
    index = ExactIndex(64)
    index_catalog(pixels_embedder(), catalog_batches(images), [index])
    rate = near_duplicate_rank1(pixels_embedder(), index, images, count=40, seed=0)
    assert 0.5 <= rate < 1  # raw pixels find the copies that are not mirrored
    twins = np.concatenate([images[:1]] * 10)  # one image ten times: any of them is right
    twin_index = ExactIndex(64)
    index_catalog(pixels_embedder(), catalog_batches(twins), [twin_index])
    assert near_duplicate_rank1(pixels_embedder(), twin_index, twins, count=10) == 1.0


def test_retrieval_scores_callback_adds_the_objective_to_the_epoch_logs():
    images, labels = blobs()
    callback = RetrievalScores((images[:45], labels[:45]), (images[45:], labels[45:]), k=4)
    callback.set_model(pixels_embedder())
    logs = {"loss": 1.0}
    callback.on_epoch_end(0, logs)
    assert logs["val_precision_at_4"] == 1.0 and 0 < logs["val_map_at_4"] <= 1
