"""The classify task: images -> our CNN (filter size f, stride s, padding p) -> SavedModel.

Data: a catalog image dataset (Fashion-MNIST by default, ``digits``) or an
image folder (``data_dir``). The model is `models.small_cnn`, one conv block
per entry of ``filters``. ``preset=quality`` makes it a VGG-style CNN (two
batch-normalized convs per block, more dropout) trained on randomly shifted
and flipped images with a cosine learning-rate decay, and gives the options
left at their defaults its own values (`PRESETS`). With ``workers`` > 1 the
model is trained by that many processes under ``MultiWorkerMirroredStrategy``
(`pipelines.multi_worker`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from common.validation import check_non_negative_int
from pipelines.options import choice_parser, format_option, option_field
from pipelines.tasks.base import Task, TaskDefaults
from pipelines.tasks.shared_options import (
    ConvBlockOptions,
    ImageFolderOption,
    ImageSizeOption,
    check_image_dataset,
)

if TYPE_CHECKING:
    import keras

    from data import DataLocations
    from pipelines.tracking import TaskOutcome


@dataclasses.dataclass(frozen=True)
class Preset:
    """What a classify preset builds and how it trains, beside the option values it sets.

    Attributes:
        options: Values of options (classify's or the run's) that a config
            left at their defaults takes; a value set by the user wins.
        convs_per_block: Convs per conv block of `models.small_cnn`.
        batch_norm: Batch normalization after every conv.
        dropout: Dropout before the hidden dense layer.
        max_shift: Training images shifted by up to this many pixels (0: not).
        flip: Training images flipped left-right at random.
        cosine_decay: Learning rate decayed to 0 along a cosine over the
            planned epochs (else constant).
    """

    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    convs_per_block: int = 1
    batch_norm: bool = False
    dropout: float = 0.25
    max_shift: int = 0
    flip: bool = False
    cosine_decay: bool = False


PRESETS = {
    "default": Preset(),
    "quality": Preset(
        options={
            "filters": (32, 64),
            "epochs": 12,
            "batch_size": 128,
            "learning_rate": 2e-3,
            "early_stopping_patience": 3,
        },
        convs_per_block=2,
        batch_norm=True,
        dropout=0.3,
        max_shift=1,
        flip=True,
        cosine_decay=True,
    ),
}


def _quality_help() -> str:
    values = ", ".join(f"{k}={format_option(v)}" for k, v in PRESETS["quality"].options.items())
    return (
        "default (our small CNN) or quality: VGG-style (2 batch-normalized convs per block, "
        "dropout), training images shifted by 1 px and flipped at random, cosine learning-rate "
        f"decay, and {values} for the options not set"
    )


@dataclasses.dataclass(frozen=True)
class ClassifyOptions(ConvBlockOptions, ImageFolderOption, ImageSizeOption):
    """The options of the classify task."""

    workers: int = option_field(
        1,
        "worker processes training one model (MultiWorkerMirroredStrategy); N > 1 "
        "starts N on 127.0.0.1, or with TF_CONFIG set this process is the worker it names",
        check=check_non_negative_int,
    )
    preset: str = option_field(
        "default", _quality_help(), parse=choice_parser("preset", tuple(PRESETS))
    )


def preset_options(config) -> dict[str, Any]:
    """The option values of the config's preset (the task's ``preset``)."""
    return dict(PRESETS[config.preset].options)


def load_data(config, locations: DataLocations | None = None):
    """``(spec, splits, pipelines)``: the config's images and their tf.data pipelines.

    The training batches are shifted and flipped at random where the preset says so.
    """
    from data.augment import augment_image_batches
    from pipelines.image_classifier import load_input_pipelines

    spec, splits, pipes = load_input_pipelines(config, locations)
    preset = PRESETS[config.preset]
    if preset.max_shift or preset.flip:
        train = augment_image_batches(pipes.train, config.seed, preset.max_shift, preset.flip)
        pipes = dataclasses.replace(pipes, train=train)
    return spec, splits, pipes


def build_model(config, data, *, conv_layer: str = "convseq") -> keras.Model:
    """The compiled CNN for a config and the ``(spec, splits, pipelines)`` of `load_data`.

    Args:
        config: The run's config (geometry, preset, learning rate, epochs).
        data: What `load_data` returned.
        conv_layer: ``"convseq"`` (our layers) or ``"keras"`` (Keras's own
            Conv2D/MaxPooling2D, for the bench's comparison).
    """
    import keras

    from models import small_cnn
    from pipelines.fitting import compile_classifier

    spec, _, pipes = data
    preset = PRESETS[config.preset]
    model = small_cnn(
        input_shape=spec.input_shape,
        classes=spec.num_classes,
        filters=config.filters,
        kernel_size=config.kernel_size,
        strides=config.stride,
        padding=config.padding,
        convs_per_block=preset.convs_per_block,
        batch_norm=preset.batch_norm,
        dropout=preset.dropout,
        conv_layer=conv_layer,
        name=f"{spec.name}_cnn",
    )
    learning_rate = config.learning_rate
    if preset.cosine_decay:
        steps = config.epochs * math.ceil(pipes.train_size / config.batch_size)
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    compile_classifier(model, config, learning_rate)
    return model


def train(
    config, locations: DataLocations | None = None, *, conv_layer: str = "convseq"
) -> TaskOutcome:
    """Trains, evaluates and exports the CNN inside the active MLflow run.

    ``conv_layer="keras"`` builds the same model from Keras's own layers (the bench).
    """
    import keras
    import mlflow

    from pipelines.fitting import fit
    from pipelines.image_classifier import finish_image_classifier
    from pipelines.multi_worker import WEIGHTS_TAG, weights_digest

    # Seeded first: the pipelines' shuffle and augmentation draws depend on the global
    # seed too, so runs in one process (a bench, a search) repeat as fresh processes do.
    keras.utils.set_random_seed(config.seed)
    data = load_data(config, locations)
    spec, _, pipes = data
    model = build_model(config, data, conv_layer=conv_layer)
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
    preset=preset_options,
)
