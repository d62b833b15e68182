"""The speech models: raw waveforms in; word probabilities, or CTC logits decoded to words, out."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.ocr import ConvStack
from models.recurrent import RecurrentSpec
from models.speech import (
    SpeechFront,
    command_classifier,
    digit_reader,
    frames_of,
    spectrogram_grid,
    transcribe,
)

SMALL = ConvStack(filters=(4, 8), width_pools=2)
GRU = RecurrentSpec(cell="gru", units=8, bidirectional=True)


def test_the_grid_counts_frames_then_halves_bands_and_the_first_blocks_frames():
    assert frames_of(16000) == 98 and frames_of(399) == 0
    # 98 frames -> 49 -> 24; 40 bands -> 20 -> 10
    assert spectrogram_grid(16000, 40, SMALL) == (24, 10)
    with pytest.raises(ValueError, match=r"leave 24 steps x 0 bands .* 98 frames x 2 mel bins"):
        spectrogram_grid(16000, 2, SMALL)
    with pytest.raises(ValueError, match=r"0 frames .*clip_seconds"):
        spectrogram_grid(300, 40, SMALL)


def test_the_classifier_gives_one_probability_per_word_from_our_layers():
    model = command_classifier(5, SpeechFront(clip_samples=8000, conv=SMALL, dense_units=8), GRU)
    probabilities = model.predict(np.zeros((2, 8000), np.float32), verbose=0)
    assert probabilities.shape == (2, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert model.get_layer("block1_conv").__class__.__module__.startswith("models.layers")
    assert model.get_layer("bidirectional_1").forward_layer.__class__.__module__.startswith(
        "models"
    )
    plain = command_classifier(3, SpeechFront(clip_samples=8000, conv=SMALL, spec_augment=False))
    assert "spec_augment" not in [layer.name for layer in plain.layers]
    assert "frequency_warp" not in [layer.name for layer in plain.layers]
    warped = command_classifier(3, SpeechFront(clip_samples=8000, conv=SMALL, frequency_warp=0.1))
    assert warped.get_layer("frequency_warp").max_warp == 0.1
    with pytest.raises(ValueError, match="classes"):
        command_classifier(0)
    with pytest.raises(ValueError, match="Expected a RecurrentSpec"):
        command_classifier(2, recurrent="gru")
    for bad, match in (
        ({"clip_samples": 0}, "clip_samples=0"),
        ({"statistics": (0.0, 0.0)}, "positive variance"),
        ({"conv": (4, 8)}, "Expected a ConvStack"),
        ({"frequency_warp": 0.6}, "frequency_warp=0.6"),
    ):
        with pytest.raises(ValueError, match=match):
            SpeechFront(**bad)


def test_the_standardization_uses_the_statistics_given():
    model = command_classifier(2, SpeechFront(clip_samples=8000, conv=SMALL, statistics=(-3, 16)))
    layer = model.get_layer("standardize")
    spectrogram = tf.fill((1, 48, 40, 1), 5.0)
    np.testing.assert_allclose(layer(spectrogram).numpy(), 2.0, rtol=1e-6)  # (5 + 3) / 4


def test_the_reader_gives_logits_per_step_and_transcribes_them_to_words():
    reader = digit_reader(3, SpeechFront(clip_samples=16000, conv=SMALL, dense_units=8), GRU)
    assert reader.output_shape == (None, 24, 4)  # blank + 3 words per step
    # a reader whose logits say "two", blank, "two", "one" on the first steps, then blank
    keras.utils.set_random_seed(0)
    steps = np.zeros((1, 24, 4), np.float32)
    steps[0, :, 0] = 10
    for step, word_id in ((0, 2), (1, 0), (2, 2), (3, 2), (4, 1)):
        steps[0, step] = -10
        steps[0, step, word_id] = 10
    fixed = keras.Sequential([keras.Input((16000,)), keras.layers.Lambda(lambda x: steps)])
    text, confidence = transcribe(fixed, tf.zeros((1, 16000)), ("one", "two", "three"), "greedy", 1)
    assert text.numpy()[0].decode() == "two two one"
    assert 0.99 < float(confidence[0]) <= 1.0
    beam, _ = transcribe(fixed, tf.zeros((1, 16000)), ("one", "two", "three"), "beam_search", 4)
    assert beam.numpy()[0].decode() == "two two one"
