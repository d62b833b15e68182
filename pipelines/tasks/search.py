"""The search task: images -> unit vectors -> "what looks like this?" over a catalog.

An embedding model (our CNN backbone, `models.small_cnn` without its top,
and L2-normalised heads, `models.embedding.embedding_model`) is trained by
metric learning. Its vector has two halves: a class part trained with
``embedder=triplet`` (semi-hard triplet loss, the default: bench
``metric_losses`` measured it ahead of the supervised contrastive loss and
of a classifier's features) or ``contrastive``, and a copy part trained to
find each training image from an altered copy of it (crop, flip,
brightness, JPEG: `data.near_duplicates.with_altered_copies`), so that a
near-duplicate of a catalog item finds that item first while other queries
find items of their kind (`models.metric_learning.ClassAndCopyLoss`). In a
search score the copy part's cosine counts `COPY_SCORE_WEIGHT` times the
class part's; the backbone is wider than classify's (`preset_options`).
Once trained, each image is embedded with its mirror image, the two
vectors added (``flip_average``, `pipelines.search_outcome.finish_search`).
``embedder=classifier`` takes a softmax classifier's penultimate features
instead (one part, no copy training). The catalog is the dataset's training
split (or an image folder's): it streams through the embedder into an exact
index and the ``index`` logged with the run. The test split's images are the queries:

- ``test_precision_at_<k>``, ``test_recall_at_<k>``, ``test_map_at_<k>``:
  a result is right when it is of the query's class (exact search);
- ``test_near_duplicate_rank1``: altered copies of catalog items (crop,
  flip, brightness, JPEG) that find their item at rank 1;
- ``test_index_recall_at_<k>``: the share of the exact top-k the HNSW index finds.

Logged: those metrics, ``plots/search_results.png`` (queries and their
results), ``plots/embedding_projection.png``, the index with ``items.csv``
(``index/``), the ``embed`` SavedModel (``embed_saved_model/``) and the
``search`` SavedModel with the catalog inside (``saved_model/``, also the
MLflow ``serving_model`` that ``mlflow models serve`` answers neighbour
queries with), all by `pipelines.search_outcome`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from common.validation import check_positive, check_positive_int
from pipelines.options import choice_parser, option_field
from pipelines.tasks.base import Task, TaskDefaults
from pipelines.tasks.shared_options import (
    ConvBlockOptions,
    EmbeddingSizeOption,
    FlipAverageOption,
    ImageFolderOption,
    ImageSizeOption,
    check_image_dataset,
)
from pipelines.vector_index import KINDS

if TYPE_CHECKING:
    import keras

    from data import DataLocations
    from pipelines.tracking import TaskOutcome

EMBEDDERS = ("triplet", "contrastive", "classifier")
TEMPERATURE = 0.1
"""Temperature of the copy part's contrastive loss (and the class part's, embedder=contrastive)."""
COPY_WEIGHT = 1.0
"""Weight of the copy part's loss against the class part's."""
COPY_SCORE_WEIGHT = 3.0
"""Weight of the copy part's cosine in a search score (the class part's is 1)."""
BACKBONE_FILTERS = (32, 64)
"""The ``filters`` a search run takes when the option is left at its default."""


@dataclasses.dataclass(frozen=True)
class SearchOptions(
    ConvBlockOptions, ImageFolderOption, ImageSizeOption, EmbeddingSizeOption, FlipAverageOption
):
    """The options of the search task."""

    embedder: str = option_field(
        "triplet",
        "how search vectors are learned: triplet (semi-hard triplet loss), contrastive "
        "(supervised contrastive loss) or classifier (a softmax classifier's penultimate "
        "features)",
        parse=choice_parser("embedder", EMBEDDERS),
    )
    margin: float = option_field(
        0.5, "triplet loss margin (embedder=triplet)", check=check_positive
    )
    top_k: int = option_field(
        10,
        "results per query: the k of the retrieval metrics and of the search SavedModel",
        check=check_positive_int,
    )
    index: str = option_field(
        "hnsw",
        "index logged with the run: hnsw (approximate, faiss) or exact",
        parse=choice_parser("index", KINDS),
    )


def check(config) -> None:
    """A named dataset must exist; ``margin`` needs ``embedder=triplet``; halves need an even size.

    Raises:
        ValueError: Naming the option and the fix.
    """
    check_image_dataset(config)
    if config.embedder != "classifier" and config.embedding_size % 2:
        raise ValueError(
            "Invalid value for argument `embedding_size`. Expected an even length: "
            f"embedder={config.embedder!r} gives half to the class part and half to the copy "
            f"part. Received embedding_size={config.embedding_size}."
        )
    default = SearchOptions.__dataclass_fields__["margin"].default
    if config.embedder != "triplet" and config.margin != default:
        raise ValueError(
            "Invalid value for argument `margin`. It is the triplet loss's margin, which "
            f"embedder={config.embedder!r} does not use: set embedder=triplet or leave margin "
            f"at {default}. Received margin={config.margin}."
        )


@dataclasses.dataclass(frozen=True)
class SearchEvaluation:
    """How a search run embeds, evaluates and indexes.

    Attributes:
        k: Results per query.
        index: Kind of the index logged with the run (`pipelines.vector_index.KINDS`).
        flip_average: Whether each image is embedded with its mirror image
            (`models.embedding.flip_averaged`) in the scores, index and exports.
    """

    k: int
    index: str
    flip_average: bool


def preset_options(config) -> dict:
    """The wider backbone search vectors need, for a ``filters`` left at its default.

    The copy part must tell one catalog image from tens of thousands of its
    kind: on Fashion-MNIST, the classify task's default ``16,32`` found far
    fewer altered copies at rank 1 than ``32,64`` with the same training.
    """
    return {"filters": BACKBONE_FILTERS}


def evaluation_settings(config) -> SearchEvaluation:
    """The `SearchEvaluation` of a config."""
    return SearchEvaluation(k=config.top_k, index=config.index, flip_average=config.flip_average)


def load_data(config, locations: DataLocations | None = None):
    """``(spec, splits, pipelines)``: the images, as for classify.

    For the metric-learned embedders, each training and validation batch is
    joined by an altered copy of each of its images, with ``[class, copy
    group]`` labels (`data.near_duplicates.with_altered_copies`).

    Raises:
        ValueError: If ``top_k`` exceeds the catalog (the training split).
    """
    from data.near_duplicates import with_altered_copies
    from data.specs import TRAIN
    from pipelines.image_classifier import load_input_pipelines

    spec, splits, pipes = load_input_pipelines(config, locations)
    items = min(len(splits[TRAIN]), config.max_examples or len(splits[TRAIN]))
    if config.top_k > items:
        raise ValueError(
            f"Invalid value for argument `top_k`. Expected at most the {items} catalog items "
            f"(the training split). Received top_k={config.top_k}."
        )
    if config.embedder != "classifier":
        pipes = dataclasses.replace(
            pipes,
            train=with_altered_copies(pipes.train, config.seed),
            validation=with_altered_copies(pipes.validation, config.seed + 1),
        )
    return spec, splits, pipes


def catalog_and_queries(config, splits):
    """The catalog and the queries, as `ImageSplit`s.

    The catalog is the training split as the run reads it: with
    ``max_examples``, only the examples the run trains and validates on
    (`data.pipeline.training_splits`), in split order. The queries are the
    test split as the test pipeline takes it.
    """
    import numpy as np

    from data.pipeline import drawn_order, training_splits
    from data.specs import TRAIN, VALIDATION

    train, _, queries = training_splits(
        splits, config.validation_fraction, config.seed, config.max_examples
    )
    if VALIDATION in splits:  # its own validation split: the training split is the catalog
        return train, queries
    catalog = splits[TRAIN]
    if config.max_examples and config.max_examples < len(catalog):
        chosen = np.sort(drawn_order(len(catalog), config.seed, config.max_examples))
        catalog = dataclasses.replace(
            catalog, images=catalog.images[chosen], labels=catalog.labels[chosen]
        )
    return catalog, queries


def backbone_geometry(config) -> dict:
    """The `models.small_cnn` arguments of the backbone: filters, f, s and p."""
    return {
        "filters": config.filters,
        "kernel_size": config.kernel_size,
        "strides": config.stride,
        "padding": config.padding,
    }


def build_model(config, data) -> keras.Model:
    """The compiled training model: an embedder, or a classifier for ``embedder=classifier``."""
    from models import small_cnn
    from models.embedding import embedding_model
    from models.metric_learning import ClassAndCopyLoss
    from pipelines.fitting import adam, compile_classifier

    spec = data[0]
    geometry = {"input_shape": spec.input_shape, **backbone_geometry(config)}
    if config.embedder == "classifier":
        model = small_cnn(
            classes=spec.num_classes,
            dense_units=config.embedding_size,
            name=f"{spec.name}_classifier",
            **geometry,
        )
        compile_classifier(model, config, config.learning_rate)
        return model
    half = config.embedding_size // 2
    backbone = small_cnn(include_top=False, name=f"{spec.name}_backbone", **geometry)
    model = embedding_model(
        backbone,
        half,
        name=f"{spec.name}_embedder",
        copy_dimension=half,
        copy_weight=COPY_SCORE_WEIGHT,
    )
    loss = ClassAndCopyLoss(
        half,
        class_loss=config.embedder,
        margin=config.margin,
        copy_weight=COPY_WEIGHT,
        temperature=TEMPERATURE,
    )
    model.compile(optimizer=adam(config), loss=loss)
    return model


def embedder_of(config, model: keras.Model) -> keras.Model:
    """The model that makes search vectors from a trained `build_model` model."""
    from models.embedding import penultimate_model

    if config.embedder != "classifier":
        return model
    spec_name = model.name.removesuffix("_classifier")
    return penultimate_model(model, name=f"{spec_name}_embedder")


def train(config, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains the embedder, indexes the catalog, evaluates retrieval, logs and exports."""
    import keras
    import mlflow

    from pipelines.fitting import fit
    from pipelines.plots import training_curves_figure
    from pipelines.search_outcome import finish_search
    from pipelines.tracking import log_new_params

    keras.utils.set_random_seed(config.seed)
    data = load_data(config, locations)
    spec, splits, pipes = data
    model = build_model(config, data)
    history = fit(model, pipes.train, pipes.validation, config)
    embedder = embedder_of(config, model)
    catalog, queries = catalog_and_queries(config, splits)
    log_new_params(
        {
            "model_parameters": embedder.count_params(),
            "train_examples": pipes.train_size,
            "validation_examples": pipes.validation_size,
            "catalog_items": len(catalog),
            "query_examples": len(queries),
        }
    )
    mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    return finish_search(config, spec, embedder, catalog, queries)


TASK = Task(
    name="search",
    summary="visual search: a CNN embedder trained by metric learning, a catalog index, top-k",
    options=SearchOptions,
    defaults=TaskDefaults("fashion_mnist", epochs=10, batch_size=128, learning_rate=1e-3),
    load_data=load_data,
    build_model=build_model,
    train=train,
    check=check,
    preset=preset_options,
)
