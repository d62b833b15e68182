"""Spectrogram features computed inside a model, so a SavedModel takes raw waveforms.

`LogMelSpectrogram` turns ``float32 [batch, samples]`` waveforms into
``[batch, frames, mel_bins, 1]`` log-mel spectrograms (or MFCCs) with
`tf.signal`: a Hann-windowed STFT, its power, triangular mel filters (HTK
mel scale) and a log. Frames: ``1 + (samples - frame_length) // frame_step``.

In training only, `FrequencyWarp` (vocal tract length perturbation) and
`SpecAugment` (time and frequency masking) vary the spectrograms.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from common.validation import (
    check_non_negative_int,
    check_positive,
    check_positive_int,
    check_warp,
)


def _mel_band(sample_rate: int, lower_edge_hertz, upper_edge_hertz) -> tuple[float, float]:
    """``(lower, upper)`` Hz the mel filters cover; ``None`` upper is the Nyquist frequency.

    Raises:
        ValueError: Unless ``0 <= lower < upper <= sample_rate / 2``, naming both.
    """
    nyquist = sample_rate / 2
    upper = nyquist if upper_edge_hertz is None else float(upper_edge_hertz)
    lower = float(lower_edge_hertz)
    if not 0 <= lower < upper <= nyquist:
        raise ValueError(
            "Invalid value for arguments `lower_edge_hertz` and `upper_edge_hertz`. "
            f"Expected 0 <= lower < upper <= {nyquist:g} (the Nyquist frequency). Received "
            f"lower_edge_hertz={lower_edge_hertz}, upper_edge_hertz={upper_edge_hertz}."
        )
    return lower, upper


@keras.saving.register_keras_serializable(package="convseq")
class LogMelSpectrogram(keras.layers.Layer):
    """Waveforms -> log-mel spectrogram images (or MFCCs), in TensorFlow ops.

    Args:
        sample_rate: Sample rate of the waveforms, in Hz.
        frame_length: Samples per STFT frame (400: 25 ms at 16 kHz).
        frame_step: Samples between frame starts (160: 10 ms at 16 kHz).
        fft_length: FFT size (at least ``frame_length``); ``fft_length // 2 + 1`` bins.
        num_mel_bins: Mel filters.
        lower_edge_hertz: Lowest frequency the filters cover.
        upper_edge_hertz: Highest; ``None`` is the Nyquist frequency.
        log_offset: Added to the mel power before the log (keeps silence finite).
        mfcc: Keep this many MFCCs of the log-mel spectrum instead (0: the spectrum).
        **kwargs: Base layer arguments (``name``, ...).

    Call arguments:
        waveforms: ``float [batch, samples]``, at least ``frame_length`` samples.

    Returns:
        ``float32 [batch, frames, num_mel_bins (or mfcc), 1]``.

    Raises:
        ValueError: On a bad argument, naming it.

    Example:
        >>> features = LogMelSpectrogram(sample_rate=16000)
        >>> features(tf.zeros((2, 16000))).shape
        TensorShape([2, 98, 40, 1])
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        frame_length: int = 400,
        frame_step: int = 160,
        fft_length: int = 512,
        num_mel_bins: int = 40,
        lower_edge_hertz: float = 20.0,
        upper_edge_hertz: float | None = None,
        log_offset: float = 1e-6,
        mfcc: int = 0,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")  # an FFT in float16 loses the quiet bands
        super().__init__(**kwargs)
        self.sample_rate = check_positive_int("sample_rate", sample_rate)
        self.frame_length = check_positive_int("frame_length", frame_length)
        self.frame_step = check_positive_int("frame_step", frame_step)
        self.fft_length = check_positive_int("fft_length", fft_length)
        if fft_length < frame_length:
            raise ValueError(
                f"Invalid value for argument `fft_length`. Expected at least frame_length="
                f"{frame_length}. Received fft_length={fft_length}."
            )
        self.num_mel_bins = check_positive_int("num_mel_bins", num_mel_bins)
        lower, upper = _mel_band(sample_rate, lower_edge_hertz, upper_edge_hertz)
        self.lower_edge_hertz = lower
        self.upper_edge_hertz = None if upper_edge_hertz is None else upper
        self.log_offset = check_positive("log_offset", log_offset)
        if check_non_negative_int("mfcc", mfcc) > num_mel_bins:
            raise ValueError(
                f"Invalid value for argument `mfcc`. Expected at most num_mel_bins="
                f"{num_mel_bins}. Received mfcc={mfcc}."
            )
        self.mfcc = mfcc
        self._mel_weights = tf.signal.linear_to_mel_weight_matrix(
            num_mel_bins, fft_length // 2 + 1, sample_rate, lower, upper
        )
        self.built = True  # no weights

    def frames(self, samples: int) -> int:
        """Frames of a clip ``samples`` long (0 if shorter than a frame)."""
        return max(0, 1 + (samples - self.frame_length) // self.frame_step)

    def call(self, waveforms):
        waveforms = tf.cast(waveforms, tf.float32)
        checked = tf.debugging.assert_greater_equal(
            tf.shape(waveforms)[-1],
            self.frame_length,
            message=f"a clip needs at least frame_length={self.frame_length} samples",
        )
        with tf.control_dependencies([checked]):
            spectrum = tf.signal.stft(
                tf.identity(waveforms), self.frame_length, self.frame_step, self.fft_length
            )
        power = tf.math.square(tf.math.abs(spectrum))
        mel = tf.tensordot(power, self._mel_weights, 1)
        features = tf.math.log(mel + self.log_offset)
        if self.mfcc:
            features = tf.signal.mfccs_from_log_mel_spectrograms(features)[..., : self.mfcc]
        return features[..., tf.newaxis]

    def compute_output_shape(self, input_shape):
        samples = input_shape[-1]
        frames = None if samples is None else self.frames(samples)
        return (input_shape[0], frames, self.mfcc or self.num_mel_bins, 1)

    def get_config(self):
        return {
            **super().get_config(),
            "sample_rate": self.sample_rate,
            "frame_length": self.frame_length,
            "frame_step": self.frame_step,
            "fft_length": self.fft_length,
            "num_mel_bins": self.num_mel_bins,
            "lower_edge_hertz": self.lower_edge_hertz,
            "upper_edge_hertz": self.upper_edge_hertz,
            "log_offset": self.log_offset,
            "mfcc": self.mfcc,
        }


@keras.saving.register_keras_serializable(package="convseq")
class SpecAugment(keras.layers.Layer):
    """Time and frequency masking of spectrograms in training (SpecAugment, Park et al. 2019).

    In training, each spectrogram gets ``time_masks`` stripes of up to
    ``max_time_width`` frames and ``frequency_masks`` stripes of up to
    ``max_frequency_width`` bins, each of a random width (0 included) at a
    random place, set to that spectrogram's mean. Outside training it passes
    spectrograms through unchanged.

    Args:
        time_masks: Stripes across time per spectrogram.
        max_time_width: Widest time stripe, in frames.
        frequency_masks: Stripes across frequency per spectrogram.
        max_frequency_width: Widest frequency stripe, in bins.
        seed: Seed of the draws (None: unseeded).
        **kwargs: Base layer arguments (``name``, ...).

    Call arguments:
        spectrograms: ``[batch, frames, bins, channels]``.
        training: Mask only when True.
    """

    def __init__(
        self,
        time_masks: int = 2,
        max_time_width: int = 10,
        frequency_masks: int = 2,
        max_frequency_width: int = 5,
        seed: int | None = None,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.time_masks = check_non_negative_int("time_masks", time_masks)
        self.max_time_width = check_non_negative_int("max_time_width", max_time_width)
        self.frequency_masks = check_non_negative_int("frequency_masks", frequency_masks)
        self.max_frequency_width = check_non_negative_int(
            "max_frequency_width", max_frequency_width
        )
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def _stripes(self, batch, size, count: int, max_width: int):
        """Boolean ``[batch, size]``: True inside any of ``count`` random stripes."""
        masked = tf.zeros((batch, size), tf.bool)
        positions = tf.range(size)[tf.newaxis, :]
        for _ in range(count):
            width = keras.random.randint((batch, 1), 0, max_width + 1, seed=self.seed_generator)
            width = tf.minimum(tf.cast(width, tf.int32), size)
            room = tf.cast(size - width + 1, tf.float32)
            start = keras.random.uniform((batch, 1), seed=self.seed_generator) * room
            start = tf.cast(tf.floor(start), tf.int32)
            masked |= (positions >= start) & (positions < start + width)
        return masked

    def call(self, spectrograms, training=None):
        if not training:
            return spectrograms
        shape = tf.shape(spectrograms)
        times = self._stripes(shape[0], shape[1], self.time_masks, self.max_time_width)
        bins = self._stripes(shape[0], shape[2], self.frequency_masks, self.max_frequency_width)
        masked = times[:, :, tf.newaxis, tf.newaxis] | bins[:, tf.newaxis, :, tf.newaxis]
        mean = tf.reduce_mean(spectrograms, axis=(1, 2, 3), keepdims=True)
        return tf.where(masked, mean, spectrograms)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "time_masks": self.time_masks,
            "max_time_width": self.max_time_width,
            "frequency_masks": self.frequency_masks,
            "max_frequency_width": self.max_frequency_width,
            "seed": self.seed,
        }


def _hertz_to_mel(hertz):
    """The HTK mel scale `tf.signal.linear_to_mel_weight_matrix` spaces its filters on."""
    return 1127.0 * tf.math.log1p(hertz / 700.0)


@keras.saving.register_keras_serializable(package="convseq")
class FrequencyWarp(keras.layers.Layer):
    """Vocal tract length perturbation of log-mel spectrograms in training.

    A speaker with a shorter or longer vocal tract says the same sounds with
    every formant scaled by one factor. In training each spectrogram is
    redrawn as if said by such a speaker: its frequencies are scaled by a
    factor drawn uniformly from ``[1 - max_warp, 1 + max_warp]`` (bin ``k``
    takes the value, linearly interpolated between bins, found at the mel
    position of ``hz(k) / factor``; beyond the edges, the edge bins'). This is
    a simplified VTLP (Jaitly & Hinton 2013, who bend the scaling back to the
    Nyquist frequency above a boundary frequency). Outside training it passes
    spectrograms through unchanged.

    Args:
        sample_rate: Sample rate of the spectrograms' waveforms, in Hz.
        num_mel_bins: Mel bands (as `LogMelSpectrogram`'s).
        lower_edge_hertz: Lowest frequency of the mel filters.
        upper_edge_hertz: Highest; ``None`` is the Nyquist frequency.
        max_warp: Largest change of the frequency scale, in ``[0, 0.5]`` (0: off).
        seed: Seed of the draws (None: unseeded).
        **kwargs: Base layer arguments (``name``, ...).

    Call arguments:
        spectrograms: ``[batch, frames, num_mel_bins, channels]`` (log-mel values).
        training: Warp only when True.

    Returns:
        The spectrograms, warped in training; same shape and dtype.

    Raises:
        ValueError: On a bad argument, naming it.

    Example:
        >>> warp = FrequencyWarp(sample_rate=16000, num_mel_bins=40, max_warp=0.2, seed=0)
        >>> warp(tf.zeros((2, 98, 40, 1)), training=True).shape
        TensorShape([2, 98, 40, 1])
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        num_mel_bins: int = 40,
        lower_edge_hertz: float = 20.0,
        upper_edge_hertz: float | None = None,
        max_warp: float = 0.1,
        seed: int | None = None,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.sample_rate = check_positive_int("sample_rate", sample_rate)
        self.num_mel_bins = check_positive_int("num_mel_bins", num_mel_bins)
        lower, upper = _mel_band(sample_rate, lower_edge_hertz, upper_edge_hertz)
        self.lower_edge_hertz = lower
        self.upper_edge_hertz = None if upper_edge_hertz is None else upper
        self.max_warp = check_warp("max_warp", max_warp)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._lower_mel = 1127.0 * math.log1p(lower / 700.0)
        self._mel_step = (1127.0 * math.log1p(upper / 700.0) - self._lower_mel) / (num_mel_bins + 1)
        centers_mel = [self._lower_mel + self._mel_step * k for k in range(1, num_mel_bins + 1)]
        self._centers_hertz = [700.0 * math.expm1(mel / 1127.0) for mel in centers_mel]
        self.built = True

    def warp(self, spectrograms, factors):
        """``spectrograms`` with each one's frequencies scaled by its factor.

        Args:
            spectrograms: ``[batch, frames, num_mel_bins, channels]``.
            factors: ``float [batch]``; above 1 raises every frequency.

        Returns:
            The warped spectrograms, same shape and dtype.
        """
        factors = tf.cast(tf.reshape(factors, (-1, 1)), tf.float32)
        centers = tf.constant(self._centers_hertz, tf.float32)[tf.newaxis, :]
        position = (_hertz_to_mel(centers / factors) - self._lower_mel) / self._mel_step - 1.0
        position = tf.clip_by_value(position, 0.0, self.num_mel_bins - 1.0)
        below = tf.floor(position)
        weight = tf.cast(position - below, spectrograms.dtype)[:, tf.newaxis, :, tf.newaxis]
        below = tf.cast(below, tf.int32)
        above = tf.minimum(below + 1, self.num_mel_bins - 1)
        low = tf.gather(spectrograms, below, axis=2, batch_dims=1)
        high = tf.gather(spectrograms, above, axis=2, batch_dims=1)
        return low + weight * (high - low)

    def call(self, spectrograms, training=None):
        if not training or not self.max_warp:
            return spectrograms
        factors = keras.random.uniform(
            (tf.shape(spectrograms)[0],),
            1.0 - self.max_warp,
            1.0 + self.max_warp,
            seed=self.seed_generator,
        )
        return self.warp(spectrograms, factors)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "sample_rate": self.sample_rate,
            "num_mel_bins": self.num_mel_bins,
            "lower_edge_hertz": self.lower_edge_hertz,
            "upper_edge_hertz": self.upper_edge_hertz,
            "max_warp": self.max_warp,
            "seed": self.seed,
        }


def log_mel_statistics(
    waveforms, sample_rate: int, num_mel_bins: int, frame_length: int = 400, frame_step: int = 160
) -> tuple[float, float]:
    """``(mean, variance)`` of the log-mel values of some clips, to standardize them with.

    Args:
        waveforms: ``float [clips, samples]`` (e.g. a few hundred training clips).
        sample_rate: Their sample rate.
        num_mel_bins: Mel bands.
        frame_length: Samples per frame.
        frame_step: Samples between frames.

    Returns:
        Python floats; the variance at least 1e-6.
    """
    features = LogMelSpectrogram(sample_rate, frame_length, frame_step, num_mel_bins=num_mel_bins)
    values = features(tf.convert_to_tensor(waveforms, tf.float32))
    mean, variance = tf.nn.moments(tf.reshape(values, [-1]), axes=[0])
    return float(mean), max(float(variance), 1e-6)
