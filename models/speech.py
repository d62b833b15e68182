"""Speech models that take raw waveforms: the spectrogram is computed inside them.

`command_classifier`: ``float32 [batch, samples]`` waveforms -> log-mel
spectrogram (`models.audio_features.LogMelSpectrogram`) -> each clip
standardised -> SpecAugment masking in training -> conv blocks of our
`Conv2D` (batch-normalized) and `MaxPool2D` -> global average pooling ->
class probabilities. One word per clip: many-to-one.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from common.validation import check_bool, check_filters, check_positive_int, check_rate
from models.audio_features import LogMelSpectrogram, SpecAugment
from models.layers import Conv2D, MaxPool2D


def command_classifier(
    classes: int,
    sample_rate: int = 16000,
    clip_samples: int | None = None,
    filters: Sequence[int] = (16, 32, 64),
    dense_units: int = 64,
    dropout: float = 0.25,
    spec_augment: bool = True,
    num_mel_bins: int = 40,
    seed: int | None = None,
    name: str = "command_classifier",
) -> keras.Model:
    """A CNN over the log-mel spectrogram of a clip, giving the probability of each command.

    Args:
        classes: Commands to tell apart.
        sample_rate: Sample rate of the waveforms, in Hz.
        clip_samples: Samples per clip; ``None`` takes clips of any length.
        filters: Filters of each conv block (3x3 conv, batch norm, ReLU, 2x2 max pooling).
        dense_units: Units of the hidden dense layer.
        dropout: Dropout before it.
        spec_augment: Mask time and frequency stripes in training (`SpecAugment`).
        num_mel_bins: Mel bands of the spectrogram.
        seed: Seed of the masking.
        name: Model name.

    Returns:
        An uncompiled `keras.Model`: ``float32 [batch, samples]`` ->
        ``float32 [batch, classes]`` probabilities.

    Raises:
        ValueError: On a bad argument, naming it.
    """
    check_positive_int("classes", classes)
    filters = check_filters("filters", filters)
    check_positive_int("dense_units", dense_units)
    check_rate("dropout", dropout)
    check_bool("spec_augment", spec_augment)
    if clip_samples is not None:
        check_positive_int("clip_samples", clip_samples)
    waves = keras.Input((clip_samples,), dtype="float32", name="audio")
    x = LogMelSpectrogram(sample_rate, num_mel_bins=num_mel_bins, name="log_mel")(waves)
    # each clip to zero mean and unit variance: loudness and microphone gain drop out
    x = keras.layers.LayerNormalization(
        axis=(1, 2, 3), center=False, scale=False, name="standardize"
    )(x)
    if spec_augment:
        x = SpecAugment(seed=seed, name="spec_augment")(x)
    for block, count in enumerate(filters, start=1):
        x = Conv2D(count, 3, padding="same", use_bias=False, name=f"block{block}_conv")(x)
        x = keras.layers.BatchNormalization(name=f"block{block}_bn")(x)
        x = keras.layers.ReLU(name=f"block{block}_relu")(x)
        x = MaxPool2D(2, name=f"block{block}_pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Dense(dense_units, activation="relu", name="hidden")(x)
    probabilities = keras.layers.Dense(
        classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model(waves, probabilities, name=name)
