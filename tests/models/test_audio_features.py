"""The log-mel layer against a NumPy reference on a pure tone."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.audio_features import FrequencyWarp, LogMelSpectrogram, SpecAugment

RATE = 16000


def tone(hertz, seconds=0.5, amplitude=0.5):
    return (amplitude * np.sin(2 * np.pi * hertz * np.arange(int(RATE * seconds)) / RATE)).astype(
        np.float32
    )


def hertz_to_mel(hertz):
    return 1127.0 * np.log1p(np.asarray(hertz, np.float64) / 700.0)


def numpy_mel_power(samples, frame_length=400, frame_step=160, fft_length=512, bins=40, low=20.0):
    """Hann-windowed power spectrum and triangular HTK-mel filters, written out in NumPy."""
    frames = 1 + (len(samples) - frame_length) // frame_step
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame_length) / frame_length)  # periodic
    framed = np.stack(
        [samples[i * frame_step : i * frame_step + frame_length] * window for i in range(frames)]
    )
    power = np.abs(np.fft.rfft(framed, n=fft_length)) ** 2
    # filters: triangles evenly spaced in mel between the edges; the DC bin gets no weight
    edges = np.linspace(hertz_to_mel(low), hertz_to_mel(RATE / 2), bins + 2)
    bin_mels = hertz_to_mel(np.linspace(0, RATE / 2, fft_length // 2 + 1))
    left, centre, right = edges[:-2], edges[1:-1], edges[2:]
    rising = (bin_mels[:, None] - left) / (centre - left)
    falling = (right - bin_mels[:, None]) / (right - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights[0] = 0.0
    return power @ weights, centre


def test_log_mel_equals_the_numpy_reference_and_peaks_at_the_tone():
    samples = tone(1000.0)
    layer = LogMelSpectrogram(sample_rate=RATE)
    features = layer(samples[None]).numpy()
    expected, centres = numpy_mel_power(samples)
    assert features.shape == (1, layer.frames(len(samples)), 40, 1) == (1, 48, 40, 1)
    mel = np.exp(features[0, ..., 0]) - layer.log_offset
    np.testing.assert_allclose(mel, expected, rtol=2e-3, atol=1e-4 * expected.max())
    # the tone's band: the filter whose centre is nearest 1 kHz on the mel scale
    loudest = np.argmax(expected.mean(axis=0))
    assert np.argmax(mel.mean(axis=0)) == loudest
    assert loudest == np.argmin(np.abs(centres - hertz_to_mel(1000.0)))


def test_mfccs_shape_config_and_float32_under_mixed_precision():
    layer = LogMelSpectrogram(sample_rate=8000, frame_length=200, frame_step=80, fft_length=256,
                              num_mel_bins=20, mfcc=13, name="mfcc")  # fmt: skip
    assert layer(tf.zeros((3, 8000))).shape == (3, 98, 13, 1)
    again = LogMelSpectrogram.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        layer = LogMelSpectrogram()
        assert layer.compute_dtype == "float32"  # the FFT never runs in float16
        assert layer(tf.zeros((1, 1000))).dtype == tf.float32
    finally:
        keras.mixed_precision.set_global_policy(previous)
    inputs = keras.Input((16000,))
    assert keras.Model(inputs, LogMelSpectrogram()(inputs)).output_shape == (None, 98, 40, 1)


def test_bad_arguments_and_short_clips_are_named():
    with pytest.raises(ValueError, match="fft_length=256"):
        LogMelSpectrogram(fft_length=256)
    with pytest.raises(ValueError, match="upper_edge_hertz=9000"):
        LogMelSpectrogram(upper_edge_hertz=9000)
    with pytest.raises(ValueError, match="mfcc=50"):
        LogMelSpectrogram(mfcc=50)
    with pytest.raises(tf.errors.InvalidArgumentError, match="at least frame_length=400"):
        LogMelSpectrogram()(tf.zeros((1, 399)))


def test_spec_augment_masks_whole_stripes_in_training_only():
    spectrograms = tf.random.stateless_normal((4, 50, 20, 1), seed=(1, 2))
    layer = SpecAugment(time_masks=2, max_time_width=6, frequency_masks=1, max_frequency_width=4,
                        seed=0)  # fmt: skip
    assert layer(spectrograms) is spectrograms  # inference: unchanged
    masked = layer(spectrograms, training=True).numpy()
    source = spectrograms.numpy()
    for example, original in zip(masked, source, strict=True):
        changed = example != original
        time_rows = np.flatnonzero(changed.all(axis=(1, 2)))
        bin_columns = np.flatnonzero(changed.all(axis=(0, 2)))
        # every changed value lies in a fully masked frame or bin, set to the mean
        assert np.all(changed[np.ix_(np.setdiff1d(range(50), time_rows),
                                     np.setdiff1d(range(20), bin_columns))] == 0)  # fmt: skip
        assert len(time_rows) <= 12 and len(bin_columns) <= 4
        np.testing.assert_allclose(example[changed], original.mean(), rtol=1e-5)
    assert (masked != source).any()
    again = SpecAugment.from_config(layer.get_config())
    np.testing.assert_array_equal(again(spectrograms, training=True).numpy(), masked)


@pytest.mark.parametrize(("hertz", "factor"), [(500, 1.2), (1000, 1.15), (2000, 0.85), (3000, 1.1)])
def test_the_frequency_warp_moves_a_tone_where_the_scaled_tone_lies(hertz, factor):
    features = LogMelSpectrogram()
    warped = FrequencyWarp().warp(features(tone(hertz)[np.newaxis]), tf.constant([factor]))
    scaled = features(tone(hertz * factor)[np.newaxis]).numpy()
    original = features(tone(hertz)[np.newaxis]).numpy()
    peak = np.argmax(warped.numpy()[0, 5, :, 0])
    assert peak == np.argmax(scaled[0, 5, :, 0]) != np.argmax(original[0, 5, :, 0])
    assert np.corrcoef(warped.numpy().ravel(), scaled.ravel())[0, 1] > 0.98


def test_the_frequency_warp_interpolates_between_bins_and_warps_in_training_only():
    layer = FrequencyWarp(sample_rate=8000, num_mel_bins=20, max_warp=0.2, seed=3)
    spectrograms = tf.random.stateless_normal((4, 30, 20, 2), seed=(5, 6))
    np.testing.assert_allclose(
        layer.warp(spectrograms, tf.ones(4)).numpy(), spectrograms.numpy(), atol=1e-4
    )
    assert layer(spectrograms) is spectrograms  # inference: unchanged
    # NumPy reference: bin k reads the mel position of hz(k) / factor, linearly interpolated
    low, high = hertz_to_mel(20.0), hertz_to_mel(4000.0)
    step = (high - low) / 21
    centers = 700.0 * np.expm1((low + step * np.arange(1, 21)) / 1127.0)
    factors = np.array([0.8, 0.95, 1.05, 1.2], np.float32)
    position = np.clip((hertz_to_mel(centers / factors[:, None]) - low) / step - 1, 0, 19)
    source = spectrograms.numpy()
    expected = (
        np.stack(
            [
                np.stack([np.interp(position[b], np.arange(20), row) for row in source[b, :, :, c]])
                for b in range(4)
                for c in range(2)
            ]
        )
        .reshape(4, 2, 30, 20)
        .transpose(0, 2, 3, 1)
    )
    warped = layer.warp(spectrograms, factors).numpy()
    np.testing.assert_allclose(warped, expected, atol=1e-4)
    trained = layer(spectrograms, training=True).numpy()
    assert not np.allclose(trained, source, atol=1e-3)
    again = FrequencyWarp.from_config(layer.get_config())
    np.testing.assert_allclose(again(spectrograms, training=True).numpy(), trained, atol=1e-6)
    assert FrequencyWarp(max_warp=0.0)(spectrograms, training=True) is spectrograms
    half = layer.warp(tf.cast(spectrograms, tf.float16), factors)
    assert half.dtype == tf.float16
    np.testing.assert_allclose(half.numpy().astype(np.float32), expected, atol=0.02)
    for bad in (0.7, -0.1, "0.1", True):
        with pytest.raises(ValueError, match="max_warp="):
            FrequencyWarp(max_warp=bad)
    with pytest.raises(ValueError, match="upper_edge_hertz=9000"):
        FrequencyWarp(upper_edge_hertz=9000)
