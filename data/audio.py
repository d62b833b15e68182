"""Audio clips as the speech tasks take them: mono float32 waveforms at one sample rate.

- `read_wav`: a WAV file (path or bytes) -> mono ``float32`` samples in
  ``[-1, 1]`` at the requested rate: integer PCM scaled, stereo (or more
  channels) mixed down by their mean, other rates resampled;
- `scaled_samples`, `to_mono` and `resample`, its steps on their own;
- `fit_length`: a clip cut or zero-padded to a fixed number of samples;
- `padded_waves`: clips zero-padded into one array.

Errors name the file and the fix: a missing file, a file that is not a
WAV, or a clip with no samples.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np

from common.validation import check_positive_int

_FULL_SCALE = {np.dtype("int16"): 2.0**15, np.dtype("int32"): 2.0**31, np.dtype("int64"): 2.0**63}


def to_mono(samples: np.ndarray) -> np.ndarray:
    """``[samples]`` or ``[samples, channels]`` -> ``[samples]``: the channels' mean."""
    samples = np.asarray(samples)
    if samples.ndim == 1:
        return samples
    if samples.ndim != 2:
        raise ValueError(
            "Invalid value for argument `samples`. Expected [samples] or [samples, channels]. "
            f"Received shape {samples.shape}."
        )
    return samples.mean(axis=1, dtype=np.float64).astype(samples.dtype, copy=False)


def resample(samples: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """Mono ``samples`` at ``rate`` Hz -> ``float32`` at ``target_rate`` Hz (polyphase filter).

    Args:
        samples: ``[samples]`` waveform.
        rate: Its sample rate in Hz.
        target_rate: The rate wanted.

    Returns:
        ``float32 [ceil(len * target_rate / rate)]``; the input as float32 if the rates agree.
    """
    from scipy.signal import resample_poly

    check_positive_int("rate", rate)
    check_positive_int("target_rate", target_rate)
    samples = np.asarray(samples, np.float32)
    if rate == target_rate:
        return samples
    common = math.gcd(rate, target_rate)
    return resample_poly(samples, target_rate // common, rate // common).astype(np.float32)


def scaled_samples(samples: np.ndarray) -> np.ndarray:
    """PCM samples as ``float32`` in ``[-1, 1]`` (8-bit unsigned; 16, 32, 64-bit signed)."""
    samples = np.asarray(samples)
    if samples.dtype == np.uint8:  # 8-bit WAV is unsigned, centred on 128
        return (samples.astype(np.float32) - 128.0) / 128.0
    if samples.dtype in _FULL_SCALE:
        return (samples / _FULL_SCALE[samples.dtype]).astype(np.float32)
    return samples.astype(np.float32)


def read_wav(source: str | os.PathLike | bytes, sample_rate: int = 16000) -> np.ndarray:
    """A WAV file as mono ``float32`` samples in ``[-1, 1]`` at ``sample_rate`` Hz.

    Args:
        source: A path, or the file's bytes.
        sample_rate: The rate to return; other rates are resampled.

    Returns:
        ``float32 [samples]`` (a float WAV's values as stored, even beyond 1).

    Raises:
        FileNotFoundError: If the path does not exist.
        ValueError: If the file is not a readable WAV (naming it) or holds no samples.
    """
    from scipy.io import wavfile

    name = "the WAV bytes" if isinstance(source, bytes) else str(source)
    try:
        rate, samples = wavfile.read(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (ValueError, EOFError, OSError) as error:
        if not isinstance(source, bytes) and not Path(source).exists():
            raise FileNotFoundError(f"No such WAV file: {name}") from None
        raise ValueError(
            f"{name} is not a readable WAV file ({error}). Convert it to PCM WAV, e.g. "
            "`sox in.mp3 out.wav`."
        ) from None
    if samples.size == 0:
        raise ValueError(f"{name} holds no audio samples: drop it or record it again.")
    if rate <= 0:
        raise ValueError(f"{name} gives a sample rate of {rate} Hz: its header is damaged.")
    return resample(to_mono(scaled_samples(samples)), int(rate), sample_rate)


def fit_length(samples: np.ndarray, length: int) -> np.ndarray:
    """A clip cut to ``length`` samples, or zero-padded at the end up to it."""
    check_positive_int("length", length)
    samples = np.asarray(samples, np.float32)
    if len(samples) >= length:
        return samples[:length]
    return np.pad(samples, (0, length - len(samples)))


def padded_waves(waves, length: int | None = None) -> np.ndarray:
    """``float32 [clips, length]``: clips zero-padded at the end to ``length`` (the longest's).

    Raises:
        ValueError: If a clip is longer than ``length``, or there is none.
    """
    if not len(waves):
        raise ValueError("Invalid value for argument `waves`. Expected at least one clip.")
    longest = max(len(wave) for wave in waves)
    length = longest if length is None else check_positive_int("length", length)
    if longest > length:
        raise ValueError(
            f"Invalid value for argument `waves`. A clip of {longest} samples is longer than "
            f"length={length}."
        )
    batch = np.zeros((len(waves), length), np.float32)
    for row, wave in enumerate(waves):
        batch[row, : len(wave)] = wave
    return batch
