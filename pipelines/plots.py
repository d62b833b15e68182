"""Figures logged with every run: training curves and the confusion matrix.

Figures are built with `matplotlib.figure.Figure` directly, so no global
pyplot state or backend is touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure


def training_curves_figure(history: Mapping[str, Sequence[float]]) -> Figure:
    """Loss and accuracy per epoch, train vs validation.

    Args:
        history: Keras ``History.history``: ``loss``, ``accuracy``,
            ``val_loss``, ``val_accuracy``, ... per epoch.

    Returns:
        A figure with one panel per metric.
    """
    names = [key for key in history if not key.startswith("val_")]
    figure = Figure(figsize=(5 * max(len(names), 1), 4), layout="constrained")
    axes = figure.subplots(1, max(len(names), 1), squeeze=False)[0]
    for axis, name in zip(axes, names):
        epochs = np.arange(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_ylabel(name)
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend()
    return figure


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts of (true label, predicted label) pairs.

    Returns:
        An ``int64`` array of shape ``(num_classes, num_classes)``; rows are
        true labels, columns predictions.
    """
    labels = np.asarray(labels, dtype=np.int64)
    predictions = np.asarray(predictions, dtype=np.int64)
    flat = np.bincount(labels * num_classes + predictions, minlength=num_classes**2)
    return flat.reshape(num_classes, num_classes)


def confusion_matrix_figure(matrix: np.ndarray, class_names: Sequence[str]) -> Figure:
    """Heat map of a confusion matrix with class names and counts.

    Args:
        matrix: ``(n, n)`` counts, rows true labels, columns predictions.
        class_names: ``n`` names.

    Returns:
        The figure.
    """
    size = len(class_names)
    figure = Figure(figsize=(1.0 + 0.7 * size, 1.0 + 0.6 * size), layout="constrained")
    axis = figure.subplots()
    image = axis.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axis, shrink=0.8)
    axis.set_xticks(range(size), class_names, rotation=45, ha="right")
    axis.set_yticks(range(size), class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    axis.set_title(f"Test confusion matrix (accuracy {accuracy:.4f})")
    threshold = matrix.max() / 2 if matrix.size else 0
    for row in range(size):
        for column in range(size):
            axis.text(
                column,
                row,
                str(matrix[row, column]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if matrix[row, column] > threshold else "black",
            )
    return figure


def forecast_figure(
    times: Sequence[str],
    actual: np.ndarray,
    forecast: np.ndarray,
    naive: np.ndarray,
    title: str,
) -> Figure:
    """Forecast vs actual (and the naive forecast) over the test tail, first step of each window.

    Args:
        times: Time stamp of each forecast's first step.
        actual: ``[n]`` actual values.
        forecast: ``[n]`` model forecasts.
        naive: ``[n]`` last-value forecasts.
        title: Figure title (dataset and column).

    Returns:
        The figure.
    """
    figure = Figure(figsize=(10, 4), layout="constrained")
    axis = figure.subplots()
    steps = np.arange(len(actual))
    axis.plot(steps, actual, color="black", label="actual")
    axis.plot(steps, forecast, marker=".", label="forecast")
    axis.plot(steps, naive, linestyle="--", alpha=0.6, label="naive (last value)")
    ticks = np.linspace(0, len(actual) - 1, num=min(8, len(actual)), dtype=int)
    axis.set_xticks(ticks, [str(times[i]) for i in ticks], rotation=30)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend()
    return figure


def trials_figure(
    trials: Sequence[Mapping],
    objective: str,
    by: Sequence[str] = (),
) -> Figure:
    """A search at a glance: the score of every trial, and the score by chosen hyperparameters.

    Args:
        trials: One mapping per trial: ``trial_id``, ``score`` (None for a
            trial without one), ``status`` and ``values`` (hyperparameter
            name -> value).
        objective: Name of the score, for the axis labels.
        by: Hyperparameter groups, one panel each; a group ``"kernel_size"``
            gathers every value whose name ends in it (``block1_kernel_size``,
            ``block2_kernel_size``, ...), marked per block.

    Returns:
        A figure: score per trial (the default trial, skipped and failed
        trials marked), then one panel per group.
    """
    figure = Figure(figsize=(5 * (1 + len(by)), 4), layout="constrained")
    axes = figure.subplots(1, 1 + len(by), squeeze=False)[0]
    scored = [(i, t) for i, t in enumerate(trials) if t.get("score") is not None]
    axis = axes[0]
    axis.bar(
        [i for i, _ in scored],
        [t["score"] for _, t in scored],
        color=["tab:orange" if i == 0 else "tab:blue" for i, _ in scored],
    )
    low = min((t["score"] for _, t in scored), default=0.0)
    for i, trial in enumerate(trials):
        if trial.get("score") is None:
            axis.annotate(
                "skipped" if trial.get("status") == "SKIPPED" else trial.get("status", "?"),
                (i, low),
                rotation=90,
                ha="center",
                va="bottom",
                fontsize=7,
            )
    axis.set_xticks(range(len(trials)), [str(t["trial_id"]) for t in trials], fontsize=7)
    axis.set_xlabel("trial (orange: the default configuration)")
    axis.set_ylabel(objective)
    axis.set_title(f"{objective} per trial")
    axis.grid(alpha=0.3, axis="y")
    if scored:
        scores = [t["score"] for _, t in scored]
        margin = (max(scores) - min(scores)) * 0.2 or 0.05
        axis.set_ylim(min(scores) - margin, max(scores) + margin)
    markers = "os^Dv*"
    for axis, group in zip(axes[1:], by):
        categories: list[str] = []
        points: dict[str, list[tuple[str, float]]] = {}
        for _, trial in scored:
            for name, value in sorted(trial["values"].items()):
                if name == group or name.endswith(f"_{group}"):
                    label = str(value)
                    if label not in categories:
                        categories.append(label)
                    prefix = name[: -len(group)].rstrip("_") or group
                    points.setdefault(prefix, []).append((label, trial["score"]))
        categories.sort(
            key=lambda c: (not c.lstrip("-").isdigit(), int(c) if c.isdigit() else 0, c)
        )
        for index, (prefix, pairs) in enumerate(sorted(points.items())):
            jitter = (index - (len(points) - 1) / 2) * 0.12
            axis.scatter(
                [categories.index(label) + jitter for label, _ in pairs],
                [score for _, score in pairs],
                marker=markers[index % len(markers)],
                label=prefix,
                alpha=0.8,
            )
        axis.set_xticks(range(len(categories)), categories)
        axis.set_xlabel(group)
        axis.set_ylabel(objective)
        axis.set_title(f"{objective} by {group}")
        axis.grid(alpha=0.3)
        if len(points) > 1:
            axis.legend(fontsize=7)
    return figure
