"""The speech_digits task: transcripts checked against CTC, a run that logs WER and exports."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from scipy.io import wavfile

from data.speech_synth import ESPEAK, FLITE
from pipelines.config import TrainConfig
from pipelines.metrics import speech_recognition_scores
from pipelines.tasks.speech_digits import encoded_transcripts, load_data, vocabulary_of
from pipelines.train import train

needs_synthesisers = pytest.mark.skipif(
    shutil.which(ESPEAK) is None or shutil.which(FLITE) is None,
    reason="espeak-ng and flite are not installed (make data installs them)",
)


def transcripts_file(root, lines):
    """Tones listed in ``root/transcripts.tsv`` as ``clip<TAB>text<TAB>speaker``."""
    rows = []
    for index, (text, speaker) in enumerate(lines):
        wave = np.sin(2 * np.pi * 200 * (1 + index % 5) * np.arange(8000) / 16000) * 8000
        wavfile.write(root / f"clip{index}.wav", 16000, wave.astype(np.int16))
        rows.append(f"clip{index}.wav\t{text}\t{speaker}\n")
    (root / "transcripts.tsv").write_text("".join(rows))
    return root / "transcripts.tsv"


def test_transcripts_become_word_ids_and_their_words_the_vocabulary(tmp_path):
    lines = [("one two two", f"s{i % 6}") for i in range(12)] + [("three", "s0")]
    config = TrainConfig(task="speech_digits", dataset=str(transcripts_file(tmp_path, lines)))
    data = load_data(config)
    assert vocabulary_of(data) == ("one", "three", "two")
    np.testing.assert_array_equal(
        encoded_transcripts(["two one", "three"], ("one", "three", "two")),
        [[3, 1], [2, 0]],
    )


def test_a_transcript_longer_than_the_reader_steps_is_an_error_with_the_numbers(tmp_path):
    lines = [("one " * 30, f"s{i % 6}") for i in range(12)]
    path = transcripts_file(tmp_path, lines)
    config = TrainConfig(task="speech_digits", dataset=str(path), clip_seconds=1.0)
    with pytest.raises(
        ValueError,
        match=r"split: transcript 'one one .* needs 59 steps .* reads 12 steps of a 1 s clip",
    ):
        load_data(config)


_TRANSCRIBE = """
import sys
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
out = loaded.signatures["serve_wav_bytes"](
    wav_bytes=tf.constant([open(path, "rb").read() for path in sys.argv[2:]])
)
assert not [m for m in sys.modules if m.split(".")[0] in ("pipelines", "models", "data")]
for text in out["text"].numpy():
    print(repr(text.decode()))
"""


@needs_synthesisers
def test_a_run_logs_error_rates_transcripts_and_an_export_that_hears_wav_bytes(
    mlflow_store, tmp_path
):
    config = TrainConfig(
        task="speech_digits",
        generated_clips=64,
        epochs=2,
        beam_width=3,
        export_dir=str(tmp_path / "exports"),
    )
    result = train(config)
    client = MlflowClient(mlflow_store)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    for name in ("test", "test_held_out_flite"):
        for metric in ("wer", "cer", "exact_accuracy"):
            assert run.data.metrics[f"{name}_{metric}"] >= 0.0
    assert [m.step for m in client.get_metric_history(result.run_id, "val_wer")] == [0, 1]
    samples = [a.path for a in client.list_artifacts(result.run_id, "samples")]
    assert samples == ["samples/epoch_001.txt", "samples/epoch_002.txt"]
    listed = client.download_artifacts(result.run_id, "transcripts/test.txt", str(tmp_path))
    lines = Path(listed).read_text().splitlines()
    said = [line.split("said: ")[1].split("  heard:")[0].strip() for line in lines]
    heard = [line.split("heard: ")[1].strip() if "heard: " in line else "" for line in lines]
    scores = speech_recognition_scores(heard, said)
    assert scores["wer"] == pytest.approx(run.data.metrics["test_wer"])

    data = load_data(config)
    paths = []
    for i in range(2):
        paths.append(tmp_path / f"digits_{i}.wav")
        wavfile.write(paths[-1], 16000, (data.splits["test"].waves[i] * 32767).astype(np.int16))
    completed = subprocess.run(
        [sys.executable, "-I", "-c", _TRANSCRIBE, str(result.export_path), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    words = set((result.export_path / "assets.extra" / "labels.txt").read_text().split())
    served = [eval(line) for line in completed.stdout.splitlines()]  # noqa: S307 (our repr)
    assert len(served) == 2 and all(set(text.split()) <= words for text in served)


@pytest.mark.slow  # make test-slow: synthesises 1,650 digit strings, trains; about 6 minutes
@needs_synthesisers
def test_the_reader_transcribes_digit_strings_of_voices_it_never_heard(mlflow_store, tmp_path):
    # CTC first learns to say nothing: the default run (94 steps an epoch) left that plateau in
    # its 4th epoch. 75 steps an epoch here, 900 in all; 600 gave WER 0.69.
    config = TrainConfig(
        task="speech_digits",
        generated_clips=1200,
        epochs=12,
        batch_size=16,
        export_dir=str(tmp_path / "exports"),
    )
    metrics = train(config).test_metrics
    assert metrics["test_wer"] < 0.5, metrics
