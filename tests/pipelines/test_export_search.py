"""The search task's SavedModels: embed and search, raw or encoded images of any size."""

import io

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from models import small_cnn
from models.embedding import embedding_model
from pipelines import export_search
from pipelines.export_search import (
    export_catalog_search,
    export_embedder,
    items_file,
    read_items,
)


@pytest.fixture(scope="module")
def embedder():
    keras.utils.set_random_seed(0)
    backbone = small_cnn(include_top=False, input_shape=(12, 12, 1), filters=(4,))
    return embedding_model(backbone, dimension=8)


@pytest.fixture(scope="module")
def catalog(embedder):
    images = np.random.default_rng(0).integers(0, 256, (6, 12, 12, 1), dtype=np.uint8)
    return images, embedder.predict(images, verbose=0)


def png(image) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image[..., 0]).save(buffer, format="PNG")
    return buffer.getvalue()


def test_embed_model_serves_vectors_of_raw_and_encoded_images_without_convseq(
    embedder, catalog, tmp_path, serve_in_fresh_process
):
    images, vectors = catalog
    path = export_embedder(embedder, tmp_path, "lookalike_embed")
    served = serve_in_fresh_process(path, images, signature_input="images")
    np.testing.assert_allclose(served["embedding"], vectors, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(served["embedding"], axis=1), 1.0, atol=1e-5)
    loaded = tf.saved_model.load(str(path))
    encoded = loaded.serve_image_bytes(tf.constant([png(image) for image in images]))
    np.testing.assert_allclose(encoded["embedding"], vectors, atol=1e-5)
    larger = tf.image.resize(images, (24, 24), method="nearest").numpy().astype(np.uint8)
    resized = loaded.serve(tf.constant(larger))["embedding"].numpy()  # any size, resized inside
    expected = embedder.predict(
        tf.cast(tf.round(tf.image.resize(larger, (12, 12))), tf.uint8), verbose=0
    )
    np.testing.assert_allclose(resized, expected, atol=1e-5)


def test_search_model_returns_the_exact_neighbours_and_lists_its_items(
    embedder, catalog, tmp_path, serve_in_fresh_process
):
    images, vectors = catalog
    ids = np.array([10, 11, 12, 13, 14, 15])
    labels = ["a", "b", "a", "b", "a", "c"]
    path = export_catalog_search(embedder, ids, vectors, labels, tmp_path, "lookalike", top_k=3)
    served = serve_in_fresh_process(path, images[:4], signature_input="images")
    similarity = vectors[:4] @ vectors.T
    expected = ids[np.argsort(-similarity, axis=1, kind="stable")[:, :3]]
    np.testing.assert_array_equal(served["item_ids"], expected)
    np.testing.assert_array_equal(served["item_ids"][:, 0], ids[:4])  # each finds itself
    np.testing.assert_allclose(served["scores"][:, 0], 1.0, atol=1e-5)
    loaded = tf.saved_model.load(str(path))
    five = loaded.search(tf.constant(images[:2]), tf.constant(5))
    assert five["item_ids"].shape == (2, 5)
    capped = loaded.search_image_bytes(tf.constant([png(images[0])]), tf.constant(50))
    assert capped["item_ids"].shape == (1, 6)  # k capped at the catalog
    assert read_items(items_file(path)) == dict(zip(ids.tolist(), labels, strict=True))


def test_bad_catalogs_are_refused_before_anything_is_written(
    embedder, catalog, tmp_path, monkeypatch
):
    images, vectors = catalog
    with pytest.raises(ValueError, match="catalog is empty"):
        export_catalog_search(embedder, [], np.zeros((0, 8)), [], tmp_path, "m")
    with pytest.raises(ValueError, match="one label per item; received 2 labels for 6"):
        export_catalog_search(embedder, np.arange(6), vectors, ["a", "b"], tmp_path, "m")
    monkeypatch.setattr(export_search, "MAX_ITEMS_IN_MODEL", 5)
    with pytest.raises(ValueError, match="6 items; a search SavedModel holds at most 5"):
        export_catalog_search(embedder, np.arange(6), vectors, ["a"] * 6, tmp_path, "m")
    assert not list(tmp_path.iterdir())
