"""Image classification shared by the classify and transfer tasks (and their tuning).

Loading a catalog dataset or an image folder into tf.data pipelines, and
what a trained image classifier logs: example counts, test loss and
accuracy, the confusion matrix, the training curves, what the model looks at
(filters, feature maps, Grad-CAM, mistakes), the SavedModel (uint8 images,
or encoded image bytes, in) and the Keras model.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import keras
import mlflow
import numpy as np
from mlflow.models import ModelSignature
from mlflow.types import Schema, TensorSpec

from data import DataLocations, load_dataset
from data.image_folder import load_image_folder
from data.pipeline import InputPipelines, build_input_pipelines
from data.sources import Splits
from data.specs import IMAGE_CLASSIFICATION, DatasetSpec
from pipelines.export import export_image_classifier
from pipelines.image_diagnostics import log_image_diagnostics
from pipelines.plots import confusion_matrix, confusion_matrix_figure, training_curves_figure
from pipelines.tracking import TaskOutcome, log_export, log_keras_model, log_new_params


def load_input_pipelines(
    config, locations: DataLocations | None = None, resize_catalog_images: bool = True
) -> tuple[DatasetSpec, Splits, InputPipelines]:
    """The data of a config (catalog dataset or image folder) and its tf.data pipelines.

    Args:
        config: Gives ``dataset`` or ``data_dir``, ``image_size``, the batch
            size, the validation share, the seed and ``max_examples``.
        locations: Where to look for local dataset copies.
        resize_catalog_images: Resize a catalog dataset's images to
            ``image_size`` (a folder's images always are); the transfer task
            resizes inside its model instead.
    """
    if config.data_dir:
        spec, splits = _image_folder_dataset(config)
    else:
        spec, splits = load_dataset(config.dataset, locations)
        size = config.image_size
        if resize_catalog_images and size and spec.input_shape[:2] != (size, size):
            spec, splits = _resized(spec, splits, size)
    pipes = build_input_pipelines(
        splits,
        batch_size=config.batch_size,
        validation_fraction=config.validation_fraction,
        seed=config.seed,
        max_examples=config.max_examples,
    )
    return spec, splits, pipes


def _resized(spec: DatasetSpec, splits: Splits, size: int) -> tuple[DatasetSpec, Splits]:
    """Every split's images resized to ``size`` x ``size`` (bilinear, rounded back to uint8)."""
    import tensorflow as tf

    resized = {}
    for name, split in splits.items():
        images = tf.image.resize(split.images, (size, size))
        images = tf.cast(tf.clip_by_value(tf.round(images), 0, 255), tf.uint8).numpy()
        resized[name] = dataclasses.replace(split, images=images)
    shape = (size, size, spec.input_shape[-1])
    return dataclasses.replace(spec, input_shape=shape), resized


def _image_folder_dataset(config) -> tuple[DatasetSpec, Splits]:
    size = config.image_size or 64
    folder = load_image_folder(config.data_dir, image_size=(size, size), seed=config.seed)
    name = re.sub(r"[^0-9A-Za-z_]+", "_", Path(config.data_dir).resolve().name) or "images"
    spec = DatasetSpec(
        name=name,
        task=IMAGE_CLASSIFICATION,
        input_shape=(size, size, 3),
        class_names=folder.class_names,
        splits=tuple(folder.splits),
    )
    return spec, folder.splits


@dataclasses.dataclass(frozen=True)
class Predictions:
    """A split's images, labels and the model's probabilities, in the split's order."""

    images: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray


def _predict_split(model: keras.Model, dataset) -> Predictions:
    images, probabilities, labels = [], [], []
    for batch, batch_labels in dataset:
        images.append(batch.numpy())
        probabilities.append(model(batch, training=False).numpy())
        labels.append(batch_labels.numpy())
    return Predictions(
        np.concatenate(images), np.concatenate(labels), np.concatenate(probabilities)
    )


def _evaluate(predictions: Predictions, spec: DatasetSpec) -> tuple[dict[str, float], np.ndarray]:
    probabilities, labels = predictions.probabilities, predictions.labels
    picked = probabilities[np.arange(len(labels)), labels]
    predicted = probabilities.argmax(axis=-1)
    metrics = {
        "test_loss": float(np.mean(-np.log(np.clip(picked, 1e-7, 1.0)))),
        "test_accuracy": float(np.mean(predicted == labels)),
    }
    matrix = confusion_matrix(labels, predicted, spec.num_classes)
    return metrics, matrix


def _signature(model: keras.Model) -> ModelSignature:
    image_shape = tuple(-1 if n is None else n for n in model.input_shape)
    return ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.uint8), image_shape, "images")]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, model.output_shape[-1]))]),
    )


def finish_image_classifier(
    model: keras.Model,
    pipes: InputPipelines,
    spec: DatasetSpec,
    export_dir: str,
    history: dict[str, list[float]] | None = None,
    registered_model_name: str = "",
) -> TaskOutcome:
    """Evaluates, plots, exports and logs a trained image classifier in the active run.

    Logs the example counts, ``test_loss``/``test_accuracy``, the confusion
    matrix (and the training curves when ``history`` is given), what the model
    looks at (`pipelines.image_diagnostics`: first conv filters, feature maps,
    Grad-CAM, mistakes), the SavedModel and the Keras model with a uint8
    image signature.
    """
    log_new_params(
        {
            "model_parameters": model.count_params(),
            "train_examples": pipes.train_size,
            "validation_examples": pipes.validation_size,
            "test_examples": pipes.test_size,
        }
    )
    predictions = _predict_split(model, pipes.test)
    test_metrics, matrix = _evaluate(predictions, spec)
    mlflow.log_metrics(test_metrics)
    if history:
        mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    mlflow.log_figure(
        confusion_matrix_figure(matrix, spec.class_names), "plots/confusion_matrix.png"
    )
    log_image_diagnostics(
        model,
        predictions.images,
        predictions.labels,
        predictions.probabilities,
        spec.class_names,
    )
    export_path = export_image_classifier(model, export_dir, model.name, spec.class_names)
    examples = predictions.images[:2]
    log_export(export_path, examples, registered_model_name)
    log_keras_model(model, _signature(model), examples)
    return TaskOutcome(export_path, test_metrics)
