"""What a search of the search task's hyperparameters needs: hypermodel, data, objective, finish.

Each trial trains an `EmbeddingHyperModel` (vector length, triplet margin,
learning rate) on the task's training batches (each image joined by an
altered copy) and is scored by `RetrievalScores` at every epoch: the
validation images searched among the other training images, a result right
when of the query's class (``val_map_at_10``, ``val_precision_at_10``). The
best trial's embedder is then indexed, evaluated on the test queries,
logged and exported as the ``train`` task does (`pipelines.tasks.search`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

RETRIEVAL_K = 10
"""Results per query of the tuning objective (``val_map_at_10``)."""

if TYPE_CHECKING:
    from data import DataLocations
    from pipelines.tune_config import TuneConfig
    from pipelines.tune_summary import SearchTask


def search_tuning_task(config: TuneConfig, locations: DataLocations | None = None) -> SearchTask:
    """The `SearchTask` of a ``task=search`` tuning config."""
    from data.pipeline import training_splits
    from models.hypermodels import EmbeddingHyperModel
    from pipelines.search_outcome import finish_search
    from pipelines.tasks.search import (
        COPY_SCORE_WEIGHT,
        COPY_WEIGHT,
        TEMPERATURE,
        backbone_geometry,
        catalog_and_queries,
        load_data,
    )
    from pipelines.tune_summary import SearchTask
    from pipelines.visual_search import RetrievalScores

    train_config = config.train_config()
    spec, splits, pipes = load_data(train_config, locations)
    hypermodel = EmbeddingHyperModel(
        spec.input_shape,
        geometry=backbone_geometry(config),
        class_loss=config.embedder,
        copy_weight=COPY_WEIGHT,
        copy_score_weight=COPY_SCORE_WEIGHT,
        temperature=TEMPERATURE,
        name=f"{spec.name}_embedder_tuned",
        **config.search_space(),
    )
    # What the training pipelines hold out: queries no trial trains on.
    trained, held_out, _ = training_splits(
        splits, config.validation_fraction, config.seed, config.max_examples
    )
    scores = RetrievalScores(
        (trained.images, trained.labels), (held_out.images, held_out.labels), k=RETRIEVAL_K
    )
    catalog, queries = catalog_and_queries(train_config, splits)
    return SearchTask(
        hypermodel,
        pipes.train,
        pipes.validation,
        lambda model: finish_search(train_config, spec, model, catalog, queries),
        ("embedding_size", "margin"),
        callbacks=(scores,),
    )
