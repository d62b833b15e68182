"""Speech models that take raw waveforms: the spectrogram is computed inside them.

Both read a clip the same way (`SpeechFront`): ``float32 [batch,
samples]`` waveforms -> log-mel spectrogram
(`models.audio_features.LogMelSpectrogram`) -> standardized with the
training set's mean and variance -> in training, a random frequency warp
(another speaker's vocal tract, `FrequencyWarp`) and SpecAugment masking -> the
spectrogram as an image, mel bands up and time across, through the conv
blocks of a `models.ocr.ConvStack` (our `Conv2D`, batch-normalized, and
`MaxPool2D`: every block halves the bands, the first ``conv.width_pools``
also the frames) -> one step per frame of the feature maps -> our recurrent
layers (the factories default to a bidirectional GRU; the tasks take ``--cell``):

- `command_classifier`: the recurrent layers' last states -> the probability
  of each word (many-to-one);
- `digit_reader`: every step -> logits over ``blank + alphabet`` for CTC
  (many-to-many, unaligned), decoded by `models.ctc`.

A conv-then-recurrent model learned generated commands much faster than a
CNN alone: on 4,000 clips, 6 epochs, 0.88 accuracy on unseen espeak voices
against 0.14 for the same conv blocks flattened into a dense layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras

from common.validation import check_bool, check_positive_int, check_rate, check_warp
from models.audio_features import FrequencyWarp, LogMelSpectrogram, SpecAugment
from models.ocr import ConvStack, conv_columns
from models.recurrent import RecurrentSpec

FRAME_LENGTH, FRAME_STEP = 400, 160  # 25 ms frames every 10 ms at 16 kHz
DEFAULT_CONV = ConvStack(filters=(16, 32, 64), width_pools=2)
DEFAULT_RECURRENT = RecurrentSpec(cell="gru", units=64, bidirectional=True)
LOG_MEL_STATISTICS = (-5.0, 25.0)
"""Mean and variance standardizing a log-mel spectrogram when none are measured."""


def frames_of(clip_samples: int) -> int:
    """Spectrogram frames of a clip ``clip_samples`` long (0 if shorter than a frame)."""
    return max(0, 1 + (clip_samples - FRAME_LENGTH) // FRAME_STEP)


def spectrogram_grid(clip_samples: int, num_mel_bins: int, conv: ConvStack) -> tuple[int, int]:
    """``(steps, bands)`` the conv blocks leave of a clip's spectrogram.

    Raises:
        ValueError: If the clip is shorter than a frame or the blocks leave
            nothing, naming the sizes and the fix.
    """
    frames = frames_of(clip_samples)
    steps = conv.columns(frames) if frames else 0
    try:
        bands = conv.rows(num_mel_bins)
    except ValueError:
        bands = 0
    if not steps or not bands:
        raise ValueError(
            f"The {len(conv.filters)} conv blocks (kernel_size={conv.kernel_size}, stride="
            f"{conv.stride}, padding={conv.padding!r}, each halving the mel bands, the first "
            f"{conv.width_pools} also the frames) leave {steps} steps x {bands} bands of a "
            f"spectrogram of {frames} frames x {num_mel_bins} mel bins ({clip_samples} samples "
            "a clip). Use longer clips (clip_seconds), more mel bins, fewer blocks or a "
            "smaller stride."
        )
    return steps, bands


@dataclasses.dataclass(frozen=True)
class SpeechFront:
    """How a speech model reads a clip, up to the recurrent layers (the module docstring).

    Attributes:
        sample_rate: Sample rate of the waveforms, in Hz.
        clip_samples: Samples per clip (shorter clips come zero-padded).
        num_mel_bins: Mel bands of the spectrogram.
        statistics: ``(mean, variance)`` of training log-mel values, which
            standardize them (`models.audio_features.log_mel_statistics`).
        frequency_warp: Largest random scaling of training spectrograms' frequencies,
            as by another speaker's vocal tract (`FrequencyWarp`; 0: none).
        spec_augment: Mask time and frequency stripes in training (`SpecAugment`).
        conv: The conv blocks; its ``width_pools`` first blocks also halve the frames.
        dense_units: Units of the dense layer each step passes before the recurrent layers.
        dropout: Dropout on those units (and on a classifier's last states).
        seed: Seed of the masking (the frequency warp's is ``seed + 1``).

    Raises:
        ValueError: On a bad field, or conv blocks that leave nothing of a clip.
    """

    sample_rate: int = 16000
    clip_samples: int = 16000
    num_mel_bins: int = 40
    statistics: tuple[float, float] = LOG_MEL_STATISTICS
    frequency_warp: float = 0.0
    spec_augment: bool = True
    conv: ConvStack = DEFAULT_CONV
    dense_units: int = 64
    dropout: float = 0.25
    seed: int | None = None

    def __post_init__(self):
        check_positive_int("sample_rate", self.sample_rate)
        check_positive_int("clip_samples", self.clip_samples)
        check_positive_int("num_mel_bins", self.num_mel_bins)
        if not isinstance(self.conv, ConvStack):
            raise ValueError(
                f"Invalid value for argument `conv`. Expected a ConvStack. Received "
                f"conv={self.conv!r}."
            )
        statistics = tuple(self.statistics)
        if len(statistics) != 2 or not statistics[1] > 0:
            raise ValueError(
                "Invalid value for argument `statistics`. Expected (mean, variance) with a "
                f"positive variance. Received statistics={self.statistics!r}."
            )
        object.__setattr__(self, "statistics", tuple(float(v) for v in statistics))
        check_warp("frequency_warp", self.frequency_warp)
        check_bool("spec_augment", self.spec_augment)
        check_positive_int("dense_units", self.dense_units)
        check_rate("dropout", self.dropout)
        spectrogram_grid(self.clip_samples, self.num_mel_bins, self.conv)

    def steps(self):
        """``(waves input, [batch, steps, dense_units] features)``: the shared front."""
        waves = keras.Input((self.clip_samples,), dtype="float32", name="audio")
        log_mel = LogMelSpectrogram(
            self.sample_rate,
            FRAME_LENGTH,
            FRAME_STEP,
            num_mel_bins=self.num_mel_bins,
            name="log_mel",
        )
        x = log_mel(waves)
        mean, variance = self.statistics
        x = keras.layers.Normalization(mean=mean, variance=variance, name="standardize")(x)
        if self.frequency_warp:
            x = FrequencyWarp(
                self.sample_rate,
                self.num_mel_bins,
                log_mel.lower_edge_hertz,
                log_mel.upper_edge_hertz,
                max_warp=self.frequency_warp,
                seed=None if self.seed is None else self.seed + 1,  # draws apart from the masks'
                name="frequency_warp",
            )(x)
        if self.spec_augment:
            x = SpecAugment(seed=self.seed, name="spec_augment")(x)
        x = keras.layers.Permute((2, 1, 3), name="bands_up")(x)  # [batch, bins, frames, 1]
        x = conv_columns(x, self.conv, self.conv.rows(self.num_mel_bins))
        x = keras.layers.Dense(self.dense_units, activation="relu", name="step_features")(x)
        if self.dropout:
            x = keras.layers.Dropout(self.dropout, name="step_dropout")(x)
        return waves, x


def _check_recurrent(recurrent) -> None:
    if not isinstance(recurrent, RecurrentSpec):
        raise ValueError(
            "Invalid value for argument `recurrent`. Expected a RecurrentSpec. Received "
            f"recurrent={recurrent!r}."
        )


def command_classifier(
    classes: int,
    front: SpeechFront = SpeechFront(),
    recurrent: RecurrentSpec = DEFAULT_RECURRENT,
    name: str = "command_classifier",
) -> keras.Model:
    """Conv blocks over a clip's log-mel spectrogram, recurrent layers, word probabilities.

    Args:
        classes: Words to tell apart.
        front: How a clip is read up to the recurrent layers (`SpeechFront`).
        recurrent: The recurrent layers reading the steps; their last states decide.
        name: Model name.

    Returns:
        An uncompiled `keras.Model`: ``float32 [batch, clip_samples]`` ->
        ``float32 [batch, classes]`` probabilities.

    Raises:
        ValueError: On a bad argument, naming it.
    """
    check_positive_int("classes", classes)
    _check_recurrent(recurrent)
    waves, x = front.steps()
    x = recurrent(x, return_sequences=False)
    if front.dropout:
        x = keras.layers.Dropout(front.dropout, name="state_dropout")(x)
    probabilities = keras.layers.Dense(
        classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model(waves, probabilities, name=name)


def digit_reader(
    alphabet_size: int,
    front: SpeechFront = SpeechFront(clip_samples=72000),
    recurrent: RecurrentSpec = DEFAULT_RECURRENT,
    name: str = "digit_reader",
) -> keras.Model:
    """Conv blocks over the spectrogram, recurrent layers, per-step logits for CTC.

    Args:
        alphabet_size: Symbols (words) the reader outputs; id 0 is the blank on top.
        front: How a clip is read up to the recurrent layers (`SpeechFront`).
        recurrent: The recurrent layers reading the steps.
        name: Model name.

    Returns:
        An uncompiled `keras.Model`: ``float32 [batch, clip_samples]`` ->
        ``float32 [batch, steps, 1 + alphabet_size]`` logits.

    Raises:
        ValueError: On a bad argument, naming it.
    """
    check_positive_int("alphabet_size", alphabet_size)
    _check_recurrent(recurrent)
    waves, x = front.steps()
    x = recurrent(x, return_sequences=True)
    logits = keras.layers.Dense(alphabet_size + 1, dtype="float32", name="logits")(x)
    return keras.Model(waves, logits, name=name)


def transcribe(reader: keras.Model, clips, words: Sequence[str], strategy: str, beam_width: int):
    """What a `digit_reader` hears in clips, in TensorFlow ops (it runs inside the SavedModel).

    Args:
        reader: A `digit_reader`.
        clips: ``float32 [batch, clip_samples]``.
        words: Its vocabulary: id ``i + 1`` is ``words[i]``.
        strategy: ``"greedy"`` or ``"beam_search"`` (`models.ctc.ctc_decode`).
        beam_width: Paths beam search keeps.

    Returns:
        ``(text, confidence)``: ``string [batch]`` words joined by spaces, ``float32 [batch]``.
    """
    from models.ctc import ctc_decode, ids_to_words

    logits = reader(clips, training=False)
    ids, confidence = ctc_decode(logits, strategy=strategy, beam_width=beam_width)
    return ids_to_words(ids, words), confidence
