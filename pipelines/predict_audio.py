"""WAV folders for batch prediction: clips read at the model's rate, unusable ones skipped.

`convseq predict` reads every ``.wav`` file of a folder on the host with
`data.audio.read_wav` (any PCM width, stereo mixed down, resampled to the
rate the export's ``assets.extra/audio.json`` names), so files the
SavedModel's ``serve_wav_bytes`` would refuse still get a prediction. A
file that cannot be read, holds no samples, or is longer than the model's
clip length gets no row: one warning counts and names them.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np

AUDIO_SUFFIX = ".wav"
AUDIO_SETTINGS = Path("assets.extra") / "audio.json"  # pipelines.export_speech's AUDIO_FILE


def audio_paths(folder: Path) -> list[Path]:
    """The folder's ``.wav`` files, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == AUDIO_SUFFIX)


def audio_settings(export: Path) -> dict | None:
    """``{"sample_rate", "clip_samples"}`` of a speech export; None for other models."""
    path = export / AUDIO_SETTINGS
    return json.loads(path.read_text("utf-8")) if path.is_file() else None


def readable_clips(
    paths: list[Path], folder: str | os.PathLike, sample_rate: int, clip_samples: int
) -> tuple[list[str], list[np.ndarray]]:
    """``(names, waves)`` of the clips that read and fit the model; a warning names the rest.

    Raises:
        ValueError: If no clip is left.
    """
    from data.audio import read_wav

    names, waves, unreadable, too_long = [], [], [], []
    for path in paths:
        try:
            wave = read_wav(path, sample_rate)
        except (ValueError, FileNotFoundError):
            unreadable.append(path.name)
            continue
        if len(wave) > clip_samples:
            too_long.append(path.name)
            continue
        names.append(path.name)
        waves.append(wave)
    limit = f"{clip_samples / sample_rate:g} s"
    skipped = [f"{name} (unreadable or empty)" for name in unreadable]
    skipped += [f"{name} (longer than the model's {limit})" for name in too_long]
    if not waves:
        raise ValueError(
            f"None of the {len(paths)} WAV files in {folder} can be predicted, e.g. "
            f"{skipped[0]}. Convert files to PCM WAV and cut clips to at most {limit}."
        )
    if skipped:
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        warnings.warn(
            f"Skipped {len(skipped)} of {len(paths)} WAV files in {folder}: "
            f"{', '.join(skipped[:5])}{more}.",
            UserWarning,
            stacklevel=2,
        )
    return names, waves
