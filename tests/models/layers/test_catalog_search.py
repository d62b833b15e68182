import keras
import numpy as np
import pytest
import tensorflow as tf

from models.layers.catalog_search import CatalogSearch
from pipelines.vector_index import ExactIndex


def catalog(items=300, dimension=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.permutation(10 * items)[:items], rng.normal(size=(items, dimension))


def test_answers_as_the_exact_index():
    ids, vectors = catalog()
    search = CatalogSearch(300, 16)
    search.set_catalog(ids, vectors * 3)  # normalised inside
    queries = np.random.default_rng(1).normal(size=(20, 16)).astype(np.float32)
    found, scores = search(queries, k=7)
    index = ExactIndex(16)
    index.add(ids, vectors)
    expected_ids, expected_scores = index.query(queries, 7)
    np.testing.assert_array_equal(found, expected_ids)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-5)
    assert found.dtype == tf.int64


def test_k_is_capped_at_the_catalog_size_and_may_be_a_tensor():
    ids, vectors = catalog(5, 4)
    search = CatalogSearch(5, 4)
    search.set_catalog(ids, vectors)
    found, _ = search(vectors[:2], k=tf.constant(50))
    assert found.shape == (2, 5)
    np.testing.assert_array_equal(found[:, 0], ids[:2])  # each item is its own best match


def test_k_below_one_is_an_error_naming_k():
    ids, vectors = catalog(5, 4)
    search = CatalogSearch(5, 4)
    search.set_catalog(ids, vectors)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"k \(results per query\)"):
        search(vectors[:1], k=tf.constant(0))


def test_a_saved_model_searches_alone(tmp_path):
    ids, vectors = catalog(50, 8)
    search = CatalogSearch(50, 8)
    search.set_catalog(ids, vectors)
    module = tf.Module()
    module.search_layer = search

    @tf.function(
        input_signature=[tf.TensorSpec((None, 8), tf.float32), tf.TensorSpec((), tf.int32)]
    )
    def serve(queries, k):
        item_ids, scores = search(queries, k=k)
        return {"item_ids": item_ids, "scores": scores}

    module.serve = serve
    tf.saved_model.save(module, str(tmp_path / "m"), signatures={"search": serve})
    loaded = tf.saved_model.load(str(tmp_path / "m")).signatures["search"]
    answer = loaded(queries=tf.constant(vectors[:3], tf.float32), k=tf.constant(4))
    np.testing.assert_array_equal(answer["item_ids"], search(vectors[:3], k=4)[0])


def test_config_round_trip_and_bad_values():
    layer = CatalogSearch(7, 3, name="search")
    restored = CatalogSearch.from_config(layer.get_config())
    assert (restored.items, restored.dimension, restored.name) == (7, 3, "search")
    with pytest.raises(ValueError, match="`items`.*Received items=0"):
        CatalogSearch(0, 3)
    with pytest.raises(ValueError, match="`dimension`.*Received dimension=True"):
        CatalogSearch(3, True)
    with pytest.raises(ValueError, match=r"7 item ids and vectors of shape \(7, 3\).*\(7, 4\)"):
        layer.set_catalog(np.arange(7), np.ones((7, 4)))
    assert isinstance(
        keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer)),
        CatalogSearch,
    )
