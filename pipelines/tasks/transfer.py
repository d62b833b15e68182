"""The transfer task: a VGG16 base, frozen under a new head, then optionally fine-tuned.

Data as for classify (a catalog image dataset or ``data_dir``). Phase
``head`` trains the new head on the frozen base (called with
``training=False``); phase ``fine_tune`` (``fine_tune_blocks`` > 0) unfreezes
the base's top blocks and continues at ``fine_tune_learning_rate`` for
``fine_tune_epochs``. Both phases' metrics form one epoch sequence; the
frozen layers of each phase are logged as JSON.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from common.validation import check_non_negative_int, check_positive
from pipelines.options import option_field
from pipelines.tasks.base import Task, TaskDefaults
from pipelines.tasks.shared_options import (
    VGG16_MIN_SIZE,
    BaseWeightsOption,
    ImageFolderOption,
    ImageSizeOption,
    check_image_dataset,
)

if TYPE_CHECKING:
    import keras

    from data import DataLocations
    from pipelines.tracking import TaskOutcome

VGG16_BLOCKS = 5


@dataclasses.dataclass(frozen=True)
class TransferOptions(ImageFolderOption, ImageSizeOption, BaseWeightsOption):
    """The options of the transfer task."""

    fine_tune_blocks: int = option_field(
        0,
        f"unfreeze this many top base blocks, 0..{VGG16_BLOCKS}, for fine-tuning (0: none)",
        check=check_non_negative_int,
    )
    fine_tune_epochs: int = option_field(
        0, "epochs of the fine-tuning phase", check=check_non_negative_int
    )
    fine_tune_learning_rate: float = option_field(
        1e-5, "learning rate of fine-tuning", check=check_positive
    )


def check(config) -> None:
    """Refuses sizes VGG16 cannot take and a fine-tuning phase that would not run.

    Raises:
        ValueError: Naming the option, the value and the fix.
        data.DatasetUnavailableError: On an unknown catalog dataset.
    """
    check_image_dataset(config)
    if config.image_size and config.image_size < VGG16_MIN_SIZE:
        raise ValueError(
            "Invalid value for argument `image_size`. The VGG16 base of task=transfer needs "
            f"at least {VGG16_MIN_SIZE} pixels. Received image_size={config.image_size}."
        )
    if config.fine_tune_blocks > VGG16_BLOCKS:
        raise ValueError(
            "Invalid value for argument `fine_tune_blocks`. Expected 0..5 (VGG16 has "
            f"{VGG16_BLOCKS} blocks). Received fine_tune_blocks={config.fine_tune_blocks}."
        )
    if bool(config.fine_tune_blocks) != bool(config.fine_tune_epochs):
        raise ValueError(
            "Fine-tuning needs both `fine_tune_blocks` (blocks to unfreeze) and "
            "`fine_tune_epochs` (epochs to train them); set both, or neither. Received "
            f"fine_tune_blocks={config.fine_tune_blocks}, "
            f"fine_tune_epochs={config.fine_tune_epochs}."
        )


@dataclasses.dataclass(frozen=True)
class TrainingPhase:
    """One phase of transfer training.

    Attributes:
        name: ``head`` or ``fine_tune`` (the checkpoint and log name).
        epochs: Epochs of this phase.
        learning_rate: Adam's learning rate in this phase.
        unfrozen_blocks: Top base blocks trainable in this phase.
    """

    name: str
    epochs: int
    learning_rate: float
    unfrozen_blocks: int


def training_phases(config) -> tuple[TrainingPhase, ...]:
    """The head phase, then the fine-tuning phase when ``fine_tune_blocks`` is set."""
    phases = [TrainingPhase("head", config.epochs, config.learning_rate, 0)]
    if config.fine_tune_blocks:
        phases.append(
            TrainingPhase(
                "fine_tune",
                config.fine_tune_epochs,
                config.fine_tune_learning_rate,
                config.fine_tune_blocks,
            )
        )
    return tuple(phases)


def load_data(config, locations: DataLocations | None = None):
    """``(spec, splits, pipelines)``: the config's images and their tf.data pipelines."""
    from pipelines.image_classifier import load_input_pipelines

    return load_input_pipelines(config, locations, resize_catalog_images=False)


def build_transfer_model(config, spec, keras_home=None) -> tuple[keras.Model, keras.Model]:
    """A compiled transfer model (frozen VGG16 base + new head) and its base.

    The base's input is ``image_size`` (or the dataset's size, at least 32)
    square with 3 channels; grayscale images are repeated to RGB inside.
    """
    from models import vgg16
    from models.transfer import transfer_model
    from pipelines.fitting import compile_classifier

    height = config.image_size or max(spec.input_shape[0], VGG16_MIN_SIZE)
    base = vgg16(
        include_top=False,
        weights=config.base_weights_or_none(),
        input_shape=(height, height, 3),
        weights_cache_dir=keras_home,
    )
    model = transfer_model(
        base,
        spec.num_classes,
        input_channels=spec.input_shape[-1],
        preprocessing="vgg16",
        name=f"{spec.name}_transfer",
    )
    compile_classifier(model, config, config.learning_rate)
    return model, base


def build_model(config, data, keras_home=None) -> keras.Model:
    """The compiled transfer model for a config and the ``(spec, ...)`` of `load_data`."""
    return build_transfer_model(config, data[0], keras_home)[0]


def log_frozen_layers(model: keras.Model, phase: str) -> list[str]:
    """Logs which layers are frozen in a phase: ``frozen_layers/<phase>.json``."""
    import mlflow

    from models.transfer import frozen_layers

    frozen = frozen_layers(model)
    mlflow.log_dict({"phase": phase, "frozen_layers": frozen}, f"frozen_layers/{phase}.json")
    mlflow.log_param(f"{phase}_frozen_layers", len(frozen))
    return frozen


def start_fine_tuning(
    model: keras.Model, base: keras.Model, config, phase: TrainingPhase
) -> list[str]:
    """Unfreezes the phase's top base blocks and recompiles at its (lower) rate.

    Returns:
        The layers unfrozen.
    """
    import mlflow

    from models.transfer import unfreeze_top_blocks
    from pipelines.fitting import compile_classifier

    unfrozen = unfreeze_top_blocks(base, phase.unfrozen_blocks)
    compile_classifier(model, config, phase.learning_rate)
    mlflow.log_dict({"unfrozen_layers": unfrozen}, "frozen_layers/unfrozen_for_fine_tuning.json")
    return unfrozen


def train(config, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains the head, then fine-tunes, evaluates and exports inside the active MLflow run."""
    import keras
    import mlflow

    from pipelines.fitting import fit
    from pipelines.image_classifier import finish_image_classifier

    spec, _, pipes = load_data(config, locations)
    keras.utils.set_random_seed(config.seed)
    model, base = build_transfer_model(config, spec, locations.keras_home if locations else None)
    history: dict[str, list[float]] = {}
    for phase in training_phases(config):
        done = len(history.get("loss", []))
        if phase.unfrozen_blocks:
            start_fine_tuning(model, base, config, phase)
            mlflow.log_param("fine_tune_start_epoch", done)
        log_frozen_layers(model, phase.name)
        more = fit(
            model,
            pipes.train,
            pipes.validation,
            config,
            initial_epoch=done,
            epochs=done + phase.epochs,
            phase=phase.name,
        )
        history = {key: history.get(key, []) + values for key, values in more.items()}
    return finish_image_classifier(
        model, pipes, spec, config.export_dir, history, config.registered_model_name
    )


TASK = Task(
    name="transfer",
    summary="image classifier on a frozen VGG16 base with a new head, optionally fine-tuned",
    options=TransferOptions,
    defaults=TaskDefaults("fashion_mnist", epochs=6, batch_size=128, learning_rate=2e-3),
    load_data=load_data,
    build_model=build_model,
    train=train,
    check=check,
)
