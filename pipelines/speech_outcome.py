"""The end of a speech run: evaluate every test split, log figures, export the SavedModel."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import keras

    from pipelines.config import TrainConfig
    from pipelines.speech_data import SpeechData
    from pipelines.tracking import TaskOutcome


def test_splits(data: SpeechData) -> dict:
    """The splits whose names start with ``test`` (test and the held-out voices)."""
    return {name: clips for name, clips in data.splits.items() if name.startswith("test")}


def log_data_sizes(model: keras.Model, data: SpeechData) -> None:
    """Logs the model's parameters, each split's clips and the clips left out as too long."""
    from pipelines.tracking import log_new_params

    log_new_params(
        {
            "model_parameters": model.count_params(),
            **{f"{name}_clips": len(clips) for name, clips in data.splits.items()},
            "long_clips": data.long_clips,
        }
    )


def log_spectrograms(model: keras.Model, clips: np.ndarray, titles: Sequence[str]) -> None:
    """Logs ``plots/spectrograms.png``: what the model's log-mel layer makes of some clips."""
    import mlflow

    from pipelines.speech_plots import spectrograms_figure

    features = model.get_layer("log_mel")
    spectrograms = np.asarray(features(clips))
    frame_seconds = features.frame_step / features.sample_rate
    figure = spectrograms_figure(list(spectrograms), titles, frame_seconds)
    mlflow.log_figure(figure, "plots/spectrograms.png")


def log_export_of(export_path, data: SpeechData, config: TrainConfig) -> None:
    """Logs a speech export with a test clip as the MLflow model's input example."""
    from pipelines.speech_data import clip_array
    from pipelines.tracking import log_export

    example = clip_array(data.splits["test"].subset([0]), config.clip_samples())
    log_export(export_path, example, registered_model_name=config.registered_model_name)


SPEAKER_METRICS_AT_MOST = 5
"""A test split said by at most this many speakers logs each one's accuracy too."""


def speaker_accuracies(name: str, speakers: Sequence[str], correct: np.ndarray) -> dict:
    """Each speaker's accuracy in a split said by at most `SPEAKER_METRICS_AT_MOST` speakers.

    Args:
        name: The split's name.
        speakers: Who says each clip (``flite:slt``).
        correct: Whether each clip was heard right.

    Returns:
        ``{"<name>_accuracy/<speaker>": accuracy}``, the speaker's characters other
        than letters, digits, ``_``, ``-`` and inner ``.`` written ``_`` (``flite_slt``), and
        ``_2``, ``_3``, ... added to a name another speaker's already took; ``{}`` for a
        split of more speakers.
    """
    speakers = np.asarray(speakers)
    found = sorted(set(speakers.tolist()))
    if len(found) > SPEAKER_METRICS_AT_MOST:
        return {}
    accuracies = {}
    for speaker in found:
        written = re.sub(r"[^\w.-]", "_", speaker).strip(".") or "_"
        base = f"{name}_accuracy/{written}"
        key, copy = base, 1
        while key in accuracies:
            copy += 1
            key = f"{base}_{copy}"
        accuracies[key] = float(np.mean(correct[speakers == speaker]))
    return accuracies


def finish_command_classifier(
    model: keras.Model, data: SpeechData, words: Sequence[str], config: TrainConfig
) -> TaskOutcome:
    """Evaluates, exports and logs a trained command classifier in the active MLflow run.

    Logs the sizes (`log_data_sizes`), ``<split>_accuracy`` of every test
    split (and each speaker's of a split of few, `speaker_accuracies`), a
    confusion matrix for each (``plots/confusion_matrix[_<split>].png``),
    ``plots/spectrograms.png`` of test clips with what was heard, the
    words (``words.txt``) and the SavedModel
    (`pipelines.export_speech.export_command_classifier`).

    Returns:
        A `TaskOutcome` with the test metrics.
    """
    import mlflow

    from pipelines.export_speech import export_command_classifier
    from pipelines.plots import confusion_matrix, confusion_matrix_figure
    from pipelines.speech_plots import SAMPLES
    from pipelines.tasks.speech_commands import labelled_arrays
    from pipelines.tracking import TaskOutcome

    log_data_sizes(model, data)
    metrics = {}
    for name, clips in test_splits(data).items():
        waves, labels = labelled_arrays(clips, words, config.clip_samples())
        probabilities = model.predict(waves, batch_size=config.batch_size, verbose=0)
        heard = probabilities.argmax(axis=-1)
        metrics[f"{name}_accuracy"] = float(np.mean(heard == labels))
        metrics.update(speaker_accuracies(name, clips.speakers, heard == labels))
        figure = confusion_matrix_figure(confusion_matrix(labels, heard, len(words)), words)
        figure.axes[0].set_title(f"{name}: accuracy {metrics[f'{name}_accuracy']:.4f}")
        suffix = "" if name == "test" else f"_{name}"
        mlflow.log_figure(figure, f"plots/confusion_matrix{suffix}.png")
        if name == "test":
            shown = slice(0, SAMPLES)
            titles = [
                f"said: {words[label]} / heard: {words[guess]} ({p.max():.2f})"
                for label, guess, p in zip(
                    labels[shown], heard[shown], probabilities[shown], strict=True
                )
            ]
            log_spectrograms(model, waves[shown], titles)
    mlflow.log_metrics(metrics)
    mlflow.log_text("".join(f"{word}\n" for word in words), "words.txt")
    export_path = export_command_classifier(
        model, words, config.export_dir, model.name, config.sample_rate
    )
    log_export_of(export_path, data, config)
    return TaskOutcome(export_path, metrics)


def finish_digit_reader(
    reader: keras.Model, data: SpeechData, words: Sequence[str], config: TrainConfig
) -> TaskOutcome:
    """Evaluates, exports and logs a trained digit reader in the active MLflow run.

    Logs the sizes (`log_data_sizes`), ``<split>_wer``, ``<split>_cer`` and
    ``<split>_exact_accuracy`` of every test split, what was heard in each
    test clip (``transcripts/<split>.txt``), ``plots/spectrograms.png`` of
    test clips titled with what was said and heard, the vocabulary
    (``words.txt``) and the SavedModel
    (`pipelines.export_speech.export_digit_reader`, greedy decoding or CTC
    beam search as ``beam_width`` says).

    Returns:
        A `TaskOutcome` with the test metrics.
    """
    import mlflow

    from pipelines.export_speech import export_digit_reader
    from pipelines.metrics import speech_recognition_scores
    from pipelines.speech_data import clip_array
    from pipelines.speech_plots import SAMPLES
    from pipelines.speech_reading import heard_texts, transcriber, transcript_lines
    from pipelines.tasks.ocr import evaluation_settings
    from pipelines.tracking import TaskOutcome

    log_data_sizes(reader, data)
    read = transcriber(reader, words, config.beam_width)
    metrics = {}
    for name, clips in test_splits(data).items():
        heard = heard_texts(read, clips)
        scores = speech_recognition_scores(heard, clips.texts)
        metrics[f"{name}_wer"] = scores["wer"]
        metrics[f"{name}_cer"] = scores["cer"]
        metrics[f"{name}_exact_accuracy"] = scores["accuracy"]
        mlflow.log_text(transcript_lines(clips.texts, heard), f"transcripts/{name}.txt")
        if name == "test":
            shown = clips.subset(range(min(SAMPLES, len(clips))))
            titles = [f"said: {s}\nheard: {h}" for s, h in zip(shown.texts, heard, strict=False)]
            log_spectrograms(reader, clip_array(shown, config.clip_samples()), titles)
    mlflow.log_metrics(metrics)
    mlflow.log_text("".join(f"{word}\n" for word in words), "words.txt")
    decoding = evaluation_settings(config)
    export_path = export_digit_reader(
        reader,
        words,
        config.export_dir,
        reader.name,
        config.sample_rate,
        strategy=decoding.strategy,
        beam_width=decoding.beam_width,
    )
    log_export_of(export_path, data, config)
    return TaskOutcome(export_path, metrics)
