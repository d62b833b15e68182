"""What an image run logs about its model: filters, feature maps, Grad-CAM, mistakes.

The numbers come from `models.conv_diagnostics`; this module draws them
with `matplotlib.figure.Figure` (no pyplot state) and logs the PNGs in the
active MLflow run under ``plots/``:

- ``first_conv_filters.png``: the first conv layer's filters;
- ``feature_maps.png``: a test image's feature maps, one row per conv block;
- ``grad_cam.png``: test images, their Grad-CAM and HiResCAM heat maps for
  the predicted class, true and predicted labels;
- ``mistakes.png``: the test images the model got most confidently wrong.

A model without top-level conv blocks (the transfer task nests its base)
logs the mistakes only.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import mlflow
import numpy as np
from matplotlib.figure import Figure

from models.conv_diagnostics import (
    conv_block_outputs,
    feature_maps,
    first_conv_filters,
    grad_cam,
)

FILTERS_SHOWN = 32
CHANNELS_SHOWN = 8
CAM_IMAGES = 8
MISTAKES_SHOWN = 16


def worst_mistakes(probabilities: np.ndarray, labels: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the misclassified examples, most confidently wrong first.

    Args:
        probabilities: ``[n, classes]`` predicted probabilities.
        labels: ``[n]`` true labels.
        limit: At most this many indices.

    Returns:
        An ``int64`` array of at most ``limit`` indices (ties in index order).
    """
    predicted = probabilities.argmax(axis=-1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:limit]


def show_image(axis, image: np.ndarray, **kwargs) -> None:
    """An image (``[h, w, 1]`` grey or ``[h, w, 3]`` colour) without ticks."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    kwargs.setdefault("cmap", "gray" if image.ndim == 2 else None)
    axis.imshow(image, **kwargs)
    axis.set_xticks([])
    axis.set_yticks([])


def _grid(count: int, columns: int, cell: float = 1.2):
    rows = max(1, -(-count // columns))
    figure = Figure(figsize=(cell * columns, cell * rows + 0.6), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis in axes[count:]:
        axis.set_axis_off()
    return figure, axes


def filters_figure(kernel: np.ndarray) -> Figure:
    """The first ``FILTERS_SHOWN`` filters of a conv kernel ``[f_h, f_w, in, out]``.

    Each filter is scaled to its own range; a 3-channel filter is shown in
    colour, others as the mean over input channels.
    """
    shown = min(kernel.shape[-1], FILTERS_SHOWN)
    figure, axes = _grid(shown, min(shown, 8))
    for index in range(shown):
        weights = kernel[..., index]
        weights = weights if weights.shape[-1] == 3 else weights.mean(axis=-1, keepdims=True)
        low, high = weights.min(), weights.max()
        show_image(axes[index], (weights - low) / (high - low or 1.0))
        axes[index].set_title(str(index), fontsize=7)
    figure.suptitle(f"First conv layer: {shown} of {kernel.shape[-1]} filters {kernel.shape[:2]}")
    return figure


def feature_maps_figure(
    image: np.ndarray, maps: Sequence[np.ndarray], names: Sequence[str], title: str
) -> Figure:
    """One image, then per conv block the first ``CHANNELS_SHOWN`` channels of its map.

    Args:
        image: ``[h, w, c]``.
        maps: One ``[h_i, w_i, c_i]`` map per block.
        names: The layer of each map.
        title: The figure's title (the image's label).
    """
    columns = CHANNELS_SHOWN + 1
    figure = Figure(figsize=(1.3 * columns, 1.4 * len(maps) + 0.6), layout="constrained")
    axes = figure.subplots(len(maps), columns, squeeze=False)
    for row, (feature_map, name) in enumerate(zip(maps, names)):
        show_image(axes[row, 0], image)
        axes[row, 0].set_ylabel(name, fontsize=7)
        for channel in range(CHANNELS_SHOWN):
            axis = axes[row, channel + 1]
            if channel < feature_map.shape[-1]:
                show_image(axis, feature_map[..., channel], cmap="viridis")
                axis.set_title(f"ch {channel}", fontsize=7)
            else:
                axis.set_axis_off()
    figure.suptitle(title)
    return figure


def grad_cam_figure(
    images: np.ndarray,
    cams: dict[str, np.ndarray],
    labels: np.ndarray,
    predicted: np.ndarray,
    class_names: Sequence[str],
) -> Figure:
    """Images (top row), then each heat map over its image (one row per method)."""
    columns = len(images)
    figure = Figure(figsize=(1.5 * columns, 1.6 * (1 + len(cams)) + 0.4), layout="constrained")
    axes = figure.subplots(1 + len(cams), columns, squeeze=False)
    for column, image in enumerate(images):
        show_image(axes[0, column], image)
        axes[0, column].set_title(
            f"true {class_names[labels[column]]}\npred {class_names[predicted[column]]}",
            fontsize=7,
            color="black" if labels[column] == predicted[column] else "red",
        )
        for row, (method, heatmaps) in enumerate(cams.items(), start=1):
            show_image(axes[row, column], image)
            axes[row, column].imshow(heatmaps[column], cmap="jet", alpha=0.45, vmin=0, vmax=1)
            if column == 0:
                axes[row, column].set_ylabel(method, fontsize=8)
    figure.suptitle("Where the evidence for the predicted class lies")
    return figure


def mistakes_figure(
    images: np.ndarray,
    labels: np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[str],
    total: int,
) -> Figure:
    """The given misclassified images with their true and predicted labels and confidence."""
    count = max(len(images), 1)
    figure, axes = _grid(count, min(count, 8), cell=1.5)
    for axis, image, label, row in zip(axes, images, labels, probabilities):
        guess = int(row.argmax())
        show_image(axis, image)
        axis.set_title(
            f"true {class_names[label]}\npred {class_names[guess]} {row[guess]:.2f}",
            fontsize=7,
        )
    if not len(images):
        axes[0].set_axis_off()
        axes[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    figure.suptitle(f"Most confident of {total} test mistakes")
    return figure


def log_image_diagnostics(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[str],
) -> list[str]:
    """Logs the filters, feature-map, Grad-CAM and mistakes PNGs in the active run.

    Args:
        model: The trained classifier.
        images: Test images as the model takes them, ``[n, h, w, c]``.
        labels: ``[n]`` true labels.
        probabilities: ``[n, classes]`` the model's predictions for them.
        class_names: Label names.

    Returns:
        The artifact paths logged.
    """
    logged = []

    def log(figure: Figure, name: str) -> None:
        mlflow.log_figure(figure, f"plots/{name}")
        logged.append(f"plots/{name}")

    predicted = probabilities.argmax(axis=-1)
    blocks = conv_block_outputs(model)
    if blocks:
        log(filters_figure(first_conv_filters(model)), "first_conv_filters.png")
        sample = images[:1]
        maps = [m[0] for m in feature_maps(model, sample, blocks)]
        title = f"Feature maps of a test image (true {class_names[labels[0]]})"
        log(feature_maps_figure(sample[0], maps, blocks, title), "feature_maps.png")
        shown, explained = images[:CAM_IMAGES], predicted[:CAM_IMAGES]
        # The run's predictions name the class to explain: the one the figure labels "pred".
        cams = {
            "Grad-CAM": grad_cam(model, shown, class_ids=explained)[0],
            "HiResCAM": grad_cam(model, shown, class_ids=explained, pool_gradients=False)[0],
        }
        log(
            grad_cam_figure(shown, cams, labels[:CAM_IMAGES], explained, class_names),
            "grad_cam.png",
        )
    wrong = worst_mistakes(probabilities, labels, MISTAKES_SHOWN)
    total = int(np.sum(predicted != labels))
    log(
        mistakes_figure(images[wrong], labels[wrong], probabilities[wrong], class_names, total),
        "mistakes.png",
    )
    return logged
