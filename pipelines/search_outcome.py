"""What a search run does once its embedder is trained: index, evaluate, log, export.

Shared by the search task (`pipelines.tasks.search`) and its tuning (the best
trial's model, `pipelines.search_tuning`): the catalog streams into an exact
index and the logged one, the test queries are scored, and the plots, the
index, the ``embed`` and ``search`` SavedModels go to the active MLflow run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipelines.tracking import TaskOutcome

GRID_QUERIES = 8
GRID_RESULTS = 10
PROJECTED_QUERIES = 2000
EMBED_ARTIFACTS = "embed_saved_model"
INDEX_ARTIFACTS = "index"
EMBED_EXPORT_TAG = "embed_export_path"


def finish_search(config, spec, embedder, catalog, queries) -> TaskOutcome:
    """Indexes the catalog, evaluates the queries, logs and exports, in the active run.

    Args:
        config: Gives ``top_k``, ``index``, the batch size, seed and export options.
        spec: The dataset's spec (class names, name).
        embedder: The trained embedding model; flip-averaged here
            (`models.embedding.flip_averaged`) when the config's
            ``flip_average`` says so.
        catalog: The catalog `ImageSplit` (item ids are its positions).
        queries: The query `ImageSplit`.
    """
    import mlflow
    import numpy as np

    from models.embedding import flip_averaged
    from pipelines.export_search import (
        MAX_ITEMS_IN_MODEL,
        export_catalog_search,
        export_embedder,
        write_items,
    )
    from pipelines.search_plots import projection_figure, results_grid_figure
    from pipelines.tasks.search import evaluation_settings
    from pipelines.tracking import TaskOutcome, log_export
    from pipelines.vector_index import ExactIndex, new_index
    from pipelines.visual_search import (
        catalog_batches,
        embed_images,
        index_catalog,
        index_recall,
        near_duplicate_rank1,
        retrieval_metrics,
    )

    settings = evaluation_settings(config)
    if settings.flip_average:
        embedder = flip_averaged(embedder)
    dimension = embedder.output_shape[-1]
    exact = ExactIndex(dimension)
    logged = exact if settings.index == "exact" else new_index(settings.index, dimension)
    indexes = [exact] if logged is exact else [exact, logged]
    index_catalog(embedder, catalog_batches(catalog.images, config.batch_size), indexes)
    query_vectors = embed_images(embedder, queries.images, config.batch_size)
    metrics, found, similarities = retrieval_metrics(
        exact, query_vectors, queries.labels, catalog.labels, settings.k
    )
    metrics["near_duplicate_rank1"] = near_duplicate_rank1(
        embedder, exact, catalog.images, seed=config.seed
    )
    if logged is not exact:
        metrics[f"index_recall_at_{settings.k}"] = index_recall(logged, found, query_vectors)
    test_metrics = {f"test_{name}": value for name, value in metrics.items()}
    mlflow.log_metrics(test_metrics)

    shown = np.random.default_rng(config.seed).choice(
        len(queries), min(GRID_QUERIES, len(queries)), replace=False
    )
    shown_found = found[shown, :GRID_RESULTS]
    mlflow.log_figure(
        results_grid_figure(
            queries.images[shown],
            queries.labels[shown],
            catalog.images[shown_found],
            catalog.labels[shown_found],
            similarities[shown, :GRID_RESULTS],
            spec.class_names,
        ),
        "plots/search_results.png",
    )
    projected = slice(0, PROJECTED_QUERIES)
    mlflow.log_figure(
        projection_figure(query_vectors[projected], queries.labels[projected], spec.class_names),
        "plots/embedding_projection.png",
    )

    item_ids = np.arange(len(catalog), dtype=np.int64)
    item_labels = [spec.class_names[label] for label in catalog.labels]
    run_id = mlflow.active_run().info.run_id
    with tempfile.TemporaryDirectory() as folder:
        saved = logged.save(Path(folder) / INDEX_ARTIFACTS, model=run_id)
        write_items(saved / "items.csv", item_ids, item_labels)
        mlflow.log_artifacts(str(saved), INDEX_ARTIFACTS)

    embed_path = export_embedder(embedder, config.export_dir, f"{spec.name}_embed")
    mlflow.log_artifacts(str(embed_path), EMBED_ARTIFACTS)
    mlflow.set_tag(EMBED_EXPORT_TAG, str(embed_path.resolve()))
    examples = queries.images[:2]
    if len(catalog) > MAX_ITEMS_IN_MODEL:
        print(
            f"The catalog has {len(catalog)} items, more than a search SavedModel holds "
            f"({MAX_ITEMS_IN_MODEL}): serving the embed model; query the logged index."
        )
        log_export(embed_path, examples, config.registered_model_name)
        return TaskOutcome(embed_path, test_metrics)
    search_path = export_catalog_search(
        embedder,
        item_ids,
        exact.vectors,
        item_labels,
        config.export_dir,
        f"{spec.name}_search",
        settings.k,
    )
    log_export(search_path, examples, config.registered_model_name)
    return TaskOutcome(search_path, test_metrics)
