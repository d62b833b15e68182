"""convseq predict over a WAV folder: clips read at the model's rate; unusable ones skipped."""

import csv

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.io import wavfile

from models.ocr import ConvStack
from models.speech import SpeechFront, command_classifier
from pipelines.export_speech import export_command_classifier
from pipelines.predict import PredictConfig, predict

WORDS = ("go", "stop")
CLIP = 8000
SMALL = ConvStack(filters=(4, 8), width_pools=2)


@pytest.fixture(scope="module")
def export_path(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = command_classifier(
        len(WORDS), SpeechFront(clip_samples=CLIP, conv=SMALL, dense_units=4)
    )
    return export_command_classifier(model, WORDS, tmp_path_factory.mktemp("e"), "words", 16000)


def test_a_wav_folder_is_predicted_at_the_model_rate_and_bad_clips_are_named(export_path, tmp_path):
    rng = np.random.default_rng(0)
    clip = (rng.uniform(-0.4, 0.4, 4000) * 32767).astype(np.int16)
    wavfile.write(tmp_path / "a.wav", 16000, clip)
    wavfile.write(tmp_path / "b.wav", 8000, clip[::2])  # resampled on the host
    wavfile.write(tmp_path / "c.wav", 16000, np.stack([clip, clip], axis=1))  # stereo
    wavfile.write(tmp_path / "long.wav", 16000, np.zeros(CLIP + 1, np.int16))
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    output = tmp_path / "out" / "predictions.csv"
    config = PredictConfig(model=str(export_path), input=str(tmp_path), output=str(output))
    with pytest.warns(
        UserWarning,
        match=r"Skipped 2 of 5 WAV files.*bad\.wav \(unreadable.*"
        r"long\.wav \(longer than the model's 0\.5 s\)",
    ):
        predict(config)
    with open(output, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["input"] for row in rows] == ["a.wav", "b.wav", "c.wav"]
    loaded = tf.saved_model.load(str(export_path))
    alone = loaded.signatures["serving_default"](
        audio=tf.constant(clip[np.newaxis] / 32768.0, tf.float32)
    )
    expected = alone["probabilities"].numpy()[0]
    for row in (rows[0], rows[2]):  # the stereo clip is the mono one twice
        got = [float(row[f"probabilities_{word}"]) for word in WORDS]
        np.testing.assert_allclose(got, expected, atol=1e-5)
        assert row["text"] == WORDS[int(np.argmax(expected))]


def test_a_wav_folder_needs_a_speech_export(tmp_path):
    from models import small_cnn
    from pipelines.export import export_image_classifier

    model = small_cnn(input_shape=(8, 8, 1), classes=2, filters=(2,))
    images = export_image_classifier(model, tmp_path / "e", "images", ["a", "b"])
    clips = tmp_path / "clips"
    clips.mkdir()
    wavfile.write(clips / "a.wav", 16000, np.zeros(100, np.int16))
    config = PredictConfig(model=str(images), input=str(clips), output=str(tmp_path / "p.csv"))
    with pytest.raises(ValueError, match=r"not a speech SavedModel .*exports/<model>/1"):
        predict(config)
