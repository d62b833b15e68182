"""Figures of a search run: queries with their top-k results, and the embeddings in 2-D."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from pipelines.image_diagnostics import show_image

RIGHT, WRONG = "#1a9850", "#d73027"


def results_grid_figure(
    query_images: np.ndarray,
    query_labels: np.ndarray,
    found_images: np.ndarray,
    found_labels: np.ndarray,
    scores: np.ndarray,
    class_names: Sequence[str],
) -> Figure:
    """One row per query: the query, then its results best first, framed green when of its class.

    Args:
        query_images: ``[queries, h, w, c]``.
        query_labels: ``[queries]``.
        found_images: ``[queries, k, h, w, c]``.
        found_labels: ``[queries, k]``.
        scores: ``[queries, k]`` cosine similarities.
        class_names: Label names.
    """
    rows, k = found_labels.shape
    figure = Figure(figsize=(1.1 * (k + 1), 1.25 * rows + 0.5), layout="constrained")
    axes = figure.subplots(rows, k + 1, squeeze=False)
    for row in range(rows):
        show_image(axes[row, 0], query_images[row])
        axes[row, 0].set_title(f"query\n{class_names[query_labels[row]]}", fontsize=6)
        for column in range(k):
            axis = axes[row, column + 1]
            show_image(axis, found_images[row, column])
            right = found_labels[row, column] == query_labels[row]
            axis.add_patch(
                Rectangle(
                    (0, 0),
                    1,
                    1,
                    transform=axis.transAxes,
                    fill=False,
                    linewidth=3,
                    edgecolor=RIGHT if right else WRONG,
                )
            )
            axis.set_title(f"{scores[row, column]:.2f}", fontsize=6)
    figure.suptitle(f"Top {k} catalog results per test query (green: same class)")
    return figure


def projection_2d(vectors: np.ndarray) -> np.ndarray:
    """The first two principal components of ``[n, d]`` vectors: ``[n, 2]``."""
    centred = np.asarray(vectors, np.float64) - np.mean(vectors, axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return centred @ components[:2].T


def projection_figure(
    vectors: np.ndarray, labels: np.ndarray, class_names: Sequence[str]
) -> Figure:
    """The embeddings projected on their two principal components, coloured by class."""
    points = projection_2d(vectors)
    figure = Figure(figsize=(7, 6), layout="constrained")
    axis = figure.subplots()
    colours = [f"C{i % 10}" for i in range(len(class_names))]
    for label, name in enumerate(class_names):
        mine = labels == label
        if np.any(mine):
            axis.scatter(*points[mine].T, s=4, alpha=0.6, color=colours[label], label=name)
    axis.set_xlabel("principal component 1")
    axis.set_ylabel("principal component 2")
    axis.set_title(f"{len(vectors)} test embeddings, by class")
    axis.legend(markerscale=3, fontsize=7, loc="best")
    return figure
