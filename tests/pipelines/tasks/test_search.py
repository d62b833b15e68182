"""The search task on a small Fashion-MNIST catalog: metrics, artifacts, exports, checks."""

import keras
import mlflow
import numpy as np
import pytest
import tensorflow as tf

from data import load_dataset
from data.pipeline import drawn_order
from pipelines.config import TrainConfig
from pipelines.export_search import items_file, read_items
from pipelines.tasks import TASKS
from pipelines.tasks.search import catalog_and_queries
from pipelines.train import train
from pipelines.vector_index import ExactIndex, load_index
from pipelines.visual_search import catalog_batches, index_catalog, near_duplicate_rank1
from tests.mlflow_artifacts import artifact_paths


def test_a_search_run_logs_retrieval_metrics_plots_index_and_exports_that_serve_alone(
    mlflow_store, tmp_path, fashion_mnist_dir, serve_in_fresh_process
):
    config = TrainConfig(
        task="search",
        max_examples=600,
        epochs=2,
        index="exact",
        top_k=5,
        export_dir=str(tmp_path / "exports"),
    )
    result = train(config)
    metrics = result.test_metrics
    assert set(metrics) == {
        "test_precision_at_5",
        "test_recall_at_5",
        "test_map_at_5",
        "test_near_duplicate_rank1",
    }
    assert metrics["test_precision_at_5"] > 0.6  # 10 classes: chance is 0.1
    assert metrics["test_map_at_5"] >= metrics["test_precision_at_5"] - 0.2
    # the copy part finds altered copies that raw pixels (a flip undoes them) do not
    spec, splits = load_dataset("fashion_mnist")
    catalog, _ = catalog_and_queries(config, splits)
    pixels = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten()])
    raw = ExactIndex(784)
    index_catalog(pixels, catalog_batches(catalog.images), [raw])
    raw_rate = near_duplicate_rank1(pixels, raw, catalog.images, seed=config.seed)
    assert metrics["test_near_duplicate_rank1"] > raw_rate + 0.1
    logged = artifact_paths(mlflow.MlflowClient(), result.run_id)
    for path in (
        "plots/search_results.png",
        "plots/embedding_projection.png",
        "plots/training_curves.png",
        "index/manifest.json",
        "index/items.csv",
        "embed_saved_model/saved_model.pb",
        "saved_model/saved_model.pb",
        "saved_model/assets.extra/items.csv",
    ):
        assert path in logged, path
    run = mlflow.get_run(result.run_id)
    assert run.data.params["catalog_items"] == "600"
    assert run.data.metrics["test_precision_at_5"] == pytest.approx(metrics["test_precision_at_5"])

    # The search export answers as the logged index does, in a Python without convseq.
    queries = splits["test"].images[:8]
    served = serve_in_fresh_process(result.export_path, queries, signature_input="images")
    embed_path = run.data.tags["embed_export_path"]
    vectors = serve_in_fresh_process(embed_path, queries)["embedding"]
    index = load_index(
        mlflow.artifacts.download_artifacts(run_id=result.run_id, artifact_path="index"),
        dimension=128,
        model=result.run_id,
    )
    expected_ids, expected_scores = index.query(vectors, 5)
    np.testing.assert_array_equal(served["item_ids"], expected_ids)
    np.testing.assert_allclose(served["scores"], expected_scores, atol=1e-5)
    labels = read_items(items_file(result.export_path))
    assert len(labels) == 600
    trained_on = np.sort(drawn_order(len(splits["train"]), config.seed, 600))
    item_labels = [spec.class_names[label] for label in splits["train"].labels[trained_on]]
    assert labels == dict(enumerate(item_labels))  # the images the run trained on, in order
    loaded = tf.saved_model.load(str(result.export_path))
    assert loaded.search(tf.constant(queries[:2]), tf.constant(3))["item_ids"].shape == (2, 3)
    # flip_average (the default): a mirrored image gets its image's vector
    embed = tf.saved_model.load(embed_path)  # kept: its variables live as long as it does
    mirrored = embed.serve(tf.constant(queries[:, :, ::-1]))["embedding"]
    np.testing.assert_allclose(mirrored, vectors, atol=1e-5)


def test_options_that_do_not_fit_are_refused_before_training(mlflow_store, fashion_mnist_dir):
    with pytest.raises(ValueError, match=r"`margin`.*embedder='contrastive' does not use"):
        TrainConfig(task="search", embedder="contrastive", margin=0.3)
    config = TrainConfig(task="search", max_examples=20, top_k=50)
    with pytest.raises(ValueError, match=r"at most the 20 catalog items .* Received top_k=50"):
        TASKS["search"].load_data(config)
    with pytest.raises(ValueError, match="embedder"):
        TrainConfig(task="search", embedder="arcface")


def test_search_widens_the_backbone_unless_filters_are_set_and_weighs_the_copy_part(
    fashion_mnist_dir,
):
    from pipelines.tasks.search import BACKBONE_FILTERS, COPY_SCORE_WEIGHT

    assert TrainConfig(task="search").filters == BACKBONE_FILTERS == (32, 64)
    assert TrainConfig(task="search", filters="8,8").filters == (8, 8)
    assert TrainConfig(task="classify").filters == (16, 32)
    config = TrainConfig(task="search", max_examples=40)
    model = TASKS["search"].build_model(config, TASKS["search"].load_data(config))
    assert model.get_layer("block2_conv1").filters == 64
    weighting = model.get_layer("copy_weighting")
    assert weighting.scale == pytest.approx(np.sqrt(COPY_SCORE_WEIGHT))
