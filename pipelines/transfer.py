"""The transfer task of the train pipeline: a VGG16 base, frozen, then optionally fine-tuned."""

from __future__ import annotations

import os

import keras
import mlflow

from data.specs import DatasetSpec
from models import vgg16
from models.transfer import frozen_layers, transfer_model, unfreeze_top_blocks
from pipelines.config import TrainConfig
from pipelines.fitting import adam

MIN_BASE_SIZE = 32  # VGG16's five POOL2 layers need at least 32 pixels


def _base_weights(config: TrainConfig):
    return None if config.base_weights.lower() == "none" else config.base_weights


def build_transfer_model(
    config: TrainConfig, spec: DatasetSpec, keras_home: str | os.PathLike | None = None
) -> tuple[keras.Model, keras.Model]:
    """A compiled transfer model (frozen VGG16 base + new head) and its base.

    The base's input is ``image_size`` (or the dataset's size, at least 32)
    square with 3 channels; grayscale images are repeated to RGB inside.
    """
    height = config.image_size or max(spec.input_shape[0], MIN_BASE_SIZE)
    base = vgg16(
        include_top=False,
        weights=_base_weights(config),
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


def compile_classifier(model: keras.Model, config: TrainConfig, learning_rate: float) -> None:
    """Compiles with Adam (and the config's gradient clipping) for sparse labels."""
    model.compile(
        optimizer=adam(config, learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def log_frozen_layers(model: keras.Model, phase: str) -> list[str]:
    """Logs which layers are frozen in a phase: ``frozen_layers/<phase>.json``."""
    frozen = frozen_layers(model)
    mlflow.log_dict({"phase": phase, "frozen_layers": frozen}, f"frozen_layers/{phase}.json")
    mlflow.log_param(f"{phase}_frozen_layers", len(frozen))
    return frozen


def start_fine_tuning(model: keras.Model, base: keras.Model, config: TrainConfig) -> list[str]:
    """Unfreezes the top ``fine_tune_blocks`` base blocks and recompiles at the lower rate.

    Returns:
        The layers unfrozen.
    """
    unfrozen = unfreeze_top_blocks(base, config.fine_tune_blocks)
    compile_classifier(model, config, config.fine_tune_learning_rate)
    mlflow.log_dict({"unfrozen_layers": unfrozen}, "frozen_layers/unfrozen_for_fine_tuning.json")
    return unfrozen
