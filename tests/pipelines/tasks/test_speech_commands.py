"""The speech_commands task: data split by speaker, options checked early, a run that exports."""

import csv
import dataclasses
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest
import tensorflow as tf
from mlflow.tracking import MlflowClient
from scipy.io import wavfile

from data.speech import SpeechClips
from data.speech_synth import ESPEAK, FLITE
from pipelines.config import TrainConfig
from pipelines.predict import PredictConfig, predict
from pipelines.speech_data import SpeechData, clip_array
from pipelines.tasks.speech_commands import load_data, words_of
from pipelines.train import train

needs_synthesisers = pytest.mark.skipif(
    shutil.which(ESPEAK) is None or shutil.which(FLITE) is None,
    reason="espeak-ng and flite are not installed (make data installs them)",
)


def word_folders(root, speakers=6, seconds=0.5, words=("yes", "no")):
    """``root/<word>/s<i>_nohash_0.wav`` tones, a pitch per word, a loudness per speaker."""
    for speaker in range(speakers):
        for index, word in enumerate(words):
            t = np.arange(int(seconds * 16000)) / 16000
            wave = np.sin(2 * np.pi * 300 * (index + 1) * t) * (speaker + 1) * 3000
            (root / word).mkdir(parents=True, exist_ok=True)
            wavfile.write(root / word / f"s{speaker}_nohash_0.wav", 16000, wave.astype(np.int16))
    return root


def test_the_task_defaults_and_bad_options_are_settled_before_any_data_is_read():
    config = TrainConfig(task="speech_commands")
    assert config.filters == (16, 32, 64) and config.clip_samples() == 24000
    assert config.training_clips() == 8000 and config.epochs == 25
    digits = TrainConfig(task="speech_digits")
    assert digits.clip_samples() == 72000 and digits.training_clips() == 4500
    assert (
        TrainConfig(task="speech_commands", clip_seconds=1, sample_rate=8000).clip_samples() == 8000
    )
    with pytest.raises(ValueError, match=r"leave .* 0 bands .*mel bins.*more mel bins"):
        TrainConfig(task="speech_commands", mel_bins=4)
    with pytest.raises(ValueError, match=r"0 frames .*clip_seconds"):
        TrainConfig(task="speech_commands", clip_seconds=0.01)
    with pytest.raises(ValueError, match="esn"):
        TrainConfig(task="speech_commands", cell="esn")


def test_word_folders_are_split_by_speaker_and_long_clips_left_out_with_a_count(tmp_path):
    root = word_folders(tmp_path / "words", speakers=10)
    wavfile.write(root / "yes" / "s0_nohash_9.wav", 16000, np.zeros(32000, np.int16))
    config = TrainConfig(task="speech_commands", dataset=str(root), test_fraction=0.2)
    with pytest.warns(UserWarning, match=r"Left out 1 clip.* 2\.00 s\. Set clip_seconds=2 "):
        data = load_data(config)
    assert data.long_clips == 1 and data.name == "words"
    speakers = [set(data.splits[name].speakers) for name in ("train", "validation", "test")]
    assert not speakers[0] & speakers[2] and not speakers[1] & speakers[2]
    assert not speakers[0] & speakers[1] and len(data.splits["test"]) >= 0.2 * 21
    assert words_of(data) == ("no", "yes")
    cut = load_data(dataclasses.replace(config, max_examples=4))  # a shuffled split: both words
    assert set(cut.splits["train"].texts) == {"no", "yes"} and len(cut.splits["train"]) <= 4


def test_a_word_no_training_clip_says_is_named():
    def clips(*texts):
        return SpeechClips(tuple(np.zeros(800, np.float32) for _ in texts), texts, texts)

    data = SpeechData("words", {"train": clips("yes", "no"), "test": clips("yes", "maybe")})
    assert words_of(dataclasses.replace(data, splits={"train": clips("yes", "no")})) == (
        "no",
        "yes",
    )
    with pytest.raises(ValueError, match=r"test split says \['maybe'\], which no training"):
        words_of(data)


def test_a_tfds_dataset_reads_audio_and_label_names_at_the_model_rate(monkeypatch):
    tone = (np.sin(np.arange(4000) / 3) * 9000).astype(np.int16)  # 0.5 s at 8 kHz
    examples = [{"audio": tone, "label": np.int64(i % 2)} for i in range(10)]
    info = types.SimpleNamespace(
        name="fake_commands",
        features={
            "audio": types.SimpleNamespace(sample_rate=8000),
            "label": types.SimpleNamespace(names=["no", "yes"]),
        },
    )
    splits = {"train": examples, "test": examples[:4]}
    monkeypatch.setattr("data.choice.tfds_examples", lambda name, locations: (info, splits))
    config = TrainConfig(task="speech_commands", dataset="tfds:fake_commands")
    data = load_data(config)
    assert {name: len(clips) for name, clips in data.splits.items()} == {
        "train": 9,
        "validation": 1,
        "test": 4,
    }
    assert data.splits["test"].texts == ("no", "yes", "no", "yes")
    assert len(data.splits["test"].waves[0]) == 8000  # resampled to 16 kHz
    info.features = {"audio": info.features["audio"], "speaker": None}
    with pytest.raises(ValueError, match=r"features \['audio', 'speaker'\].*'audio' and one of"):
        load_data(config)


_TRANSCRIBE = """
import sys
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
data = tf.constant([open(path, "rb").read() for path in sys.argv[2:]])
out = loaded.signatures["serve_wav_bytes"](wav_bytes=data)
ours = sorted(m for m in sys.modules if m.split(".")[0] in ("pipelines", "models", "data"))
assert not ours, ours
for text, confidence in zip(out["text"].numpy(), out["confidence"].numpy()):
    print(text.decode(), float(confidence))
"""


@needs_synthesisers
def test_a_run_logs_accuracy_figures_and_an_export_that_hears_wav_bytes_without_convseq(
    mlflow_store, tmp_path
):
    config = TrainConfig(
        task="speech_commands",
        generated_clips=96,
        epochs=2,
        batch_size=32,
        export_dir=str(tmp_path / "exports"),
    )
    result = train(config)
    client = MlflowClient(mlflow_store)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    for name in ("test", "test_held_out_flite"):
        assert 0.0 <= run.data.metrics[f"{name}_accuracy"] <= 1.0
    data = load_data(config)
    held_out = data.splits["test_held_out_flite"]
    serve = tf.saved_model.load(str(result.export_path)).signatures["serving_default"]
    heard = serve(audio=tf.constant(clip_array(held_out, config.clip_samples())))["text"]
    right = np.array([t.decode() for t in heard.numpy()]) == np.array(held_out.texts)
    for speaker in set(held_out.speakers):  # each held-out flite speaker's own accuracy
        said = np.array(held_out.speakers) == speaker
        logged = run.data.metrics[f"test_held_out_flite_accuracy/{speaker.replace(':', '_')}"]
        assert logged == pytest.approx(np.mean(right[said]))
    assert 80 < int(run.data.params["train_clips"]) <= 96  # a few may be longer than 1.5 s
    assert {a.path for a in client.list_artifacts(result.run_id, "plots")} >= {
        "plots/confusion_matrix.png",
        "plots/confusion_matrix_test_held_out_flite.png",
        "plots/spectrograms.png",
        "plots/training_curves.png",
    }

    # WAV files of test clips, as a user would have them: 16-bit PCM, one stereo
    test = data.splits["test"]
    folder = tmp_path / "clips"
    folder.mkdir()
    paths = []
    for i in range(3):
        pcm = (test.waves[i] * 32767).astype(np.int16)
        paths.append(folder / f"clip_{i}.wav")
        wavfile.write(paths[-1], 16000, np.stack([pcm, pcm], axis=1) if i == 2 else pcm)
    completed = subprocess.run(
        [sys.executable, "-I", "-c", _TRANSCRIBE, str(result.export_path), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    served = [line.split() for line in completed.stdout.splitlines()]
    words = (result.export_path / "assets.extra" / "labels.txt").read_text().split()
    assert len(served) == 3 and all(text in words and 0 < float(p) <= 1 for text, p in served)

    output = tmp_path / "predictions.csv"
    predict(PredictConfig(model=str(result.export_path), input=str(folder), output=str(output)))
    with open(output, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["text"] for row in rows] == [text for text, _ in served]
    for row, (_, confidence) in zip(rows, served, strict=True):
        assert float(row["confidence"]) == pytest.approx(float(confidence), abs=1e-4)


@pytest.mark.slow  # make test-slow: synthesises 3,500 clips and trains 6 epochs; about 4 minutes
@needs_synthesisers
def test_the_classifier_learns_commands_said_by_voices_it_never_heard(mlflow_store, tmp_path):
    config = TrainConfig(
        task="speech_commands",
        generated_clips=3000,
        epochs=6,
        export_dir=str(tmp_path / "exports"),
    )
    metrics = train(config).test_metrics
    # 20 words: chance is 0.05. The same seed gave above 0.7 in earlier CI runs and 0.683
    # on a fresh machine (2026-12-03): the floor leaves room for machine-to-machine drift.
    assert metrics["test_accuracy"] > 0.55, metrics
