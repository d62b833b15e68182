"""The speech SavedModel: waveforms or WAV bytes in, words out; long clips, other rates refused."""

import io
import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.io import wavfile

from models.ocr import ConvStack
from models.speech import SpeechFront, command_classifier
from pipelines.export_speech import export_command_classifier

WORDS = ("no", "yes", "up")
CLIP = 8000  # 0.5 s at 16 kHz
SMALL = ConvStack(filters=(4, 8), width_pools=2)


def wav_bytes(samples, rate=16000) -> bytes:
    buffer = io.BytesIO()
    wavfile.write(buffer, rate, samples)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = command_classifier(
        len(WORDS), SpeechFront(clip_samples=CLIP, conv=SMALL, dense_units=8, frequency_warp=0.2)
    )  # served as model(x, training=False): no warp, no masks
    path = export_command_classifier(
        model, WORDS, tmp_path_factory.mktemp("exports"), "commands", 16000
    )
    return model, path, tf.saved_model.load(str(path))


def test_serve_pads_clips_as_in_training_and_names_the_most_probable_word(exported):
    model, path, loaded = exported
    rng = np.random.default_rng(0)
    clips = rng.uniform(-0.5, 0.5, (3, 5000)).astype(np.float32)
    answer = loaded.signatures["serving_default"](audio=tf.constant(clips))
    padded = np.pad(clips, [(0, 0), (0, CLIP - 5000)])
    expected = model(padded, training=False).numpy()
    np.testing.assert_allclose(answer["probabilities"].numpy(), expected, rtol=1e-5, atol=1e-6)
    ids = expected.argmax(axis=1)
    assert [t.decode() for t in answer["text"].numpy()] == [WORDS[i] for i in ids]
    np.testing.assert_allclose(answer["confidence"].numpy(), expected.max(axis=1), rtol=1e-6)
    silent = loaded.signatures["serving_default"](audio=tf.zeros((1, 0)))  # an empty clip
    assert np.isfinite(silent["probabilities"].numpy()).all()
    settings = json.loads((path / "assets.extra" / "audio.json").read_text())
    assert settings == {"sample_rate": 16000, "clip_samples": CLIP}
    assert (path / "assets.extra" / "labels.txt").read_text().split() == list(WORDS)


def test_wav_bytes_of_any_length_and_channels_read_as_their_samples(exported):
    _, _, loaded = exported
    rng = np.random.default_rng(1)
    short = rng.integers(-9000, 9000, 3000).astype(np.int16)
    stereo = rng.integers(-9000, 9000, (6000, 2)).astype(np.int16)
    answer = loaded.signatures["serve_wav_bytes"](
        wav_bytes=tf.constant([wav_bytes(short), wav_bytes(stereo)])
    )
    mono = stereo.astype(np.float32).mean(axis=1) / 32768
    for row, samples in enumerate([short.astype(np.float32) / 32768, mono]):
        alone = loaded.signatures["serving_default"](audio=tf.constant(samples[np.newaxis]))
        np.testing.assert_allclose(
            answer["probabilities"].numpy()[row], alone["probabilities"].numpy()[0], atol=1e-5
        )


def test_a_clip_too_long_or_at_another_rate_is_refused_with_the_fix(exported):
    _, _, loaded = exported
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"longer than the 8000 samples the model takes \(0\.5 s",
    ):
        loaded.signatures["serving_default"](audio=tf.zeros((1, CLIP + 1)))
    at_8k = wav_bytes(np.zeros(800, np.int16), rate=8000)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"16000 Hz: resample it first"):
        loaded.signatures["serve_wav_bytes"](wav_bytes=tf.constant([at_8k]))


def test_words_must_match_the_outputs(tmp_path):
    model = command_classifier(2, SpeechFront(clip_samples=CLIP, conv=SMALL))
    with pytest.raises(ValueError, match=r"tells 2 words apart; 3 were given"):
        export_command_classifier(model, WORDS, tmp_path, "m", 16000)
