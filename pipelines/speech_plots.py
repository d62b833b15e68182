"""Figures of the speech tasks: log-mel spectrograms of sample clips with what was heard."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

SAMPLES = 8
"""Clips a spectrogram figure shows."""


def spectrograms_figure(
    spectrograms: Sequence[np.ndarray], titles: Sequence[str], frame_seconds: float
) -> Figure:
    """One panel per clip: its log-mel spectrogram (time across, mel bands up), titled.

    Args:
        spectrograms: ``[frames, bins]`` (or ``[frames, bins, 1]``) each.
        titles: One per spectrogram, e.g. ``"said: yes / heard: yes (0.98)"``.
        frame_seconds: Seconds between frames, for the time axis.

    Returns:
        The figure.
    """
    if len(spectrograms) != len(titles) or not len(titles):
        raise ValueError(
            f"Expected one title per spectrogram and at least one of each. Received "
            f"{len(spectrograms)} spectrograms and {len(titles)} titles."
        )
    columns = 2
    rows = (len(titles) + columns - 1) // columns
    figure = Figure(figsize=(5.0 * columns, 2.2 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    for axis, spectrogram, title in zip(axes, spectrograms, titles, strict=False):
        values = np.asarray(spectrogram).reshape(len(spectrogram), -1)
        seconds = len(values) * frame_seconds
        axis.imshow(
            values.T,
            origin="lower",
            aspect="auto",
            cmap="magma",
            extent=(0, seconds, 0, values.shape[1]),
        )
        axis.set_title(title, fontsize=9)
        axis.set_xlabel("seconds")
        axis.set_ylabel("mel band")
    for axis in axes[len(titles) :]:
        axis.set_visible(False)
    return figure
