"""The classify task: images -> our CNN (filter size f, stride s, padding p) -> SavedModel.

Data: a catalog image dataset (Fashion-MNIST by default, ``digits``) or an
image folder (``data_dir``). The model is `models.small_cnn`, one conv block
per entry of ``filters``. With ``workers`` > 1 the model is trained by that
many processes under ``MultiWorkerMirroredStrategy`` (`pipelines.multi_worker`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from common.padding import parse_padding
from common.validation import check_non_negative_int, check_positive_int
from pipelines.options import option_field
from pipelines.tasks.base import Task, TaskDefaults
from pipelines.tasks.shared_options import (
    ImageFolderOption,
    ImageSizeOption,
    check_image_dataset,
)

if TYPE_CHECKING:
    import keras

    from data import DataLocations
    from pipelines.tracking import TaskOutcome


def parse_filters(text) -> tuple[int, ...]:
    """Parses ``"32,64"`` (filters per conv block) into ``(32, 64)``.

    Raises:
        ValueError: If an entry is not a positive integer.
    """
    if not isinstance(text, str):
        values = tuple(text)
    else:
        try:
            values = tuple(int(part) for part in text.split(",") if part.strip())
        except ValueError:
            values = ()
    if not values or not all(isinstance(v, int) and v > 0 for v in values):
        raise ValueError(
            "Invalid value for argument `filters`. Expected comma-separated positive integers, "
            f"one per conv block, e.g. '32,64'. Received filters={text!r}."
        )
    return values


@dataclasses.dataclass(frozen=True)
class ClassifyOptions(ImageFolderOption, ImageSizeOption):
    """The options of the classify task."""

    filters: tuple[int, ...] = option_field(
        (16, 32), "filters per conv block, comma-separated, e.g. 16,32", parse=parse_filters
    )
    kernel_size: int = option_field(3, "conv filter size f", check=check_positive_int)
    stride: int = option_field(1, "conv stride s", check=check_positive_int)
    padding: str | int = option_field(
        "same", "conv padding: valid, same or an integer p", parse=parse_padding
    )
    workers: int = option_field(
        1,
        "worker processes training one model (MultiWorkerMirroredStrategy); N > 1 "
        "starts N on 127.0.0.1, or with TF_CONFIG set this process is the worker it names",
        check=check_non_negative_int,
    )


def load_data(config, locations: DataLocations | None = None):
    """``(spec, splits, pipelines)``: the config's images and their tf.data pipelines."""
    from pipelines.image_classifier import load_input_pipelines

    return load_input_pipelines(config, locations)


def build_model(config, data) -> keras.Model:
    """The compiled CNN for a config and the ``(spec, ...)`` of `load_data`."""
    from models import small_cnn
    from pipelines.fitting import compile_classifier

    spec = data[0]
    model = small_cnn(
        input_shape=spec.input_shape,
        classes=spec.num_classes,
        filters=config.filters,
        kernel_size=config.kernel_size,
        strides=config.stride,
        padding=config.padding,
        name=f"{spec.name}_cnn",
    )
    compile_classifier(model, config, config.learning_rate)
    return model


def train(config, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains, evaluates and exports the CNN inside the active MLflow run."""
    import keras
    import mlflow

    from pipelines.fitting import fit
    from pipelines.image_classifier import finish_image_classifier
    from pipelines.multi_worker import WEIGHTS_TAG, weights_digest

    data = load_data(config, locations)
    spec, _, pipes = data
    keras.utils.set_random_seed(config.seed)
    model = build_model(config, data)
    history = fit(model, pipes.train, pipes.validation, config)
    if config.workers > 1:
        mlflow.set_tag(WEIGHTS_TAG, weights_digest(model))
    return finish_image_classifier(
        model, pipes, spec, config.export_dir, history, config.registered_model_name
    )


TASK = Task(
    name="classify",
    summary="image classifier: our CNN with filter size, stride and padding per block",
    options=ClassifyOptions,
    defaults=TaskDefaults("fashion_mnist", epochs=6, batch_size=128, learning_rate=2e-3),
    load_data=load_data,
    build_model=build_model,
    train=train,
    check=check_image_dataset,
)
