"""The speech_digits task: digit strings -> log-mel, CNN, BiLSTM, CTC -> SavedModel taking audio.

Data (`pipelines.speech_data`): generated strings of 3-7 digits said by
espeak-ng and flite voices (``spoken_digits``; its test voices never
trained on, and a ``test_held_out_flite`` split in flite speakers never
trained on), a transcripts file (``clip<TAB>text``), or a TFDS dataset
with ``audio`` and ``text``. The vocabulary is the training transcripts'
words. The model (`models.speech.digit_reader`) computes the log-mel
spectrogram inside: conv blocks over it, a bidirectional LSTM (``cell``) over its
frames, and logits over ``blank + words`` per step, trained with Keras's
CTC loss (no word timings needed). After every epoch the validation word
error rate is scored and sample transcripts are logged; the weights of the
epoch with the lowest WER are kept. Reported: WER, CER and exact
transcripts of every test split.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from pipelines.speech_models import speech_preset
from pipelines.tasks.base import Task, TaskDefaults

# the decoding a config asks for (beam_width), as ocr's; the task table reads it from here
from pipelines.tasks.ocr import evaluation_settings  # noqa: F401
from pipelines.tasks.shared_options import (
    BeamWidthOption,
    ConvBlockOptions,
    HeldOutTestOption,
    RecurrentCellOptions,
    SpeechOptions,
)

if TYPE_CHECKING:
    import keras

    from data import DataLocations
    from pipelines.config import TrainConfig
    from pipelines.speech_data import SpeechData
    from pipelines.tracking import TaskOutcome

TIME_POOLS = 3  # 4.5 s: 448 frames, 56 steps, 80 ms each: room for 7 digits and their gaps
SAMPLE_TRANSCRIPTS = 10


@dataclasses.dataclass(frozen=True)
class SpeechDigitsOptions(
    ConvBlockOptions, RecurrentCellOptions, SpeechOptions, BeamWidthOption, HeldOutTestOption
):
    """The options of the speech_digits task (its recurrent layers are bidirectional)."""


def check(config: TrainConfig) -> None:
    """The conv blocks leave steps and bands of a clip (checked before any data is made)."""
    from pipelines.speech_models import check_speech_model

    check_speech_model(config, TIME_POOLS)


def vocabulary_of(data: SpeechData) -> tuple[str, ...]:
    """The words the reader outputs: those of the training transcripts, sorted.

    Raises:
        ValueError: If another split says a word no training clip says.
    """
    words = tuple(sorted({word for text in data.splits["train"].texts for word in text.split()}))
    for name, clips in data.splits.items():
        unknown = sorted({word for text in clips.texts for word in text.split()} - set(words))
        if unknown:
            raise ValueError(
                f"The {name} split says {unknown[:5]}, which no training transcript says; the "
                "reader only outputs training words. Add training clips of them or remove "
                "those clips."
            )
    return words


def _check_label_lengths(config: TrainConfig, data: SpeechData) -> None:
    """Every transcript fits the reader's steps (CTC: a step per word, plus one per repeat).

    Raises:
        ValueError: Naming the split, the longest transcript, both counts and the fix.
    """
    from models.ctc import columns_needed
    from models.speech import spectrogram_grid
    from pipelines.speech_models import conv_stack

    steps, _ = spectrogram_grid(
        config.clip_samples(), config.mel_bins, conv_stack(config, TIME_POOLS)
    )
    for name, clips in data.splits.items():
        longest = max(clips.texts, key=lambda text: columns_needed(text.split()))
        needed = columns_needed(longest.split())
        if needed > steps:
            raise ValueError(
                f"The {name} split: transcript {longest!r} needs {needed} steps of the reader "
                f"(a word each, plus one between repeated words, for CTC), but it reads "
                f"{steps} steps of a {config.clip_samples() / config.sample_rate:g} s clip. "
                "Use a larger clip_seconds or shorter transcripts."
            )


def load_data(config: TrainConfig, locations: DataLocations | None = None) -> SpeechData:
    """The config's clips, their words known and their transcripts short enough for CTC."""
    from pipelines.speech_data import load_speech

    data = load_speech(config, locations, ("spoken_digits", "spoken_commands"))
    vocabulary_of(data)
    _check_label_lengths(config, data)
    return data


def encoded_transcripts(texts, words) -> object:
    """Transcripts as CTC targets: ``int32 [n, most words]``, ``words[i]`` as ``i + 1``, 0 after."""
    import numpy as np

    ids = {word: index + 1 for index, word in enumerate(words)}
    said = [[ids[word] for word in text.split()] for text in texts]
    labels = np.zeros((len(said), max(len(s) for s in said)), np.int32)
    for row, sequence in enumerate(said):
        labels[row, : len(sequence)] = sequence
    return labels


def build_model(config: TrainConfig, data: SpeechData) -> keras.Model:
    """The digit reader, compiled with Keras's CTC loss and a cosine-decayed Adam."""
    import keras

    from models.speech import digit_reader
    from pipelines.fitting import adam
    from pipelines.speech_models import cosine_decay, speech_front

    model = digit_reader(
        len(vocabulary_of(data)),
        speech_front(config, data, TIME_POOLS),
        config.recurrent_spec(bidirectional=True),
        name=f"{data.name}_bi{config.cell}_reader",
    )
    model.compile(optimizer=adam(config, cosine_decay(config, data)), loss=keras.losses.CTC())
    return model


def _validation_score(model, data: SpeechData, words, config: TrainConfig):
    """``epoch -> {"val_wer", "val_cer", "val_exact_accuracy"}``, logging sample transcripts."""
    import mlflow

    from pipelines.metrics import speech_recognition_scores
    from pipelines.speech_reading import heard_texts, transcriber, transcript_lines

    validation = data.splits["validation"]
    read = transcriber(model, words, config.beam_width)

    def score(epoch: int) -> dict[str, float]:
        heard = heard_texts(read, validation)
        scores = speech_recognition_scores(heard, validation.texts)
        if mlflow.active_run():
            shown = slice(0, SAMPLE_TRANSCRIPTS)
            lines = transcript_lines(validation.texts[shown], heard[shown])
            mlflow.log_text(lines, f"samples/epoch_{epoch + 1:03d}.txt")
        return {
            "val_wer": scores["wer"],
            "val_cer": scores["cer"],
            "val_exact_accuracy": scores["accuracy"],
        }

    return score


def train(config: TrainConfig, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains, evaluates and exports a digit reader inside the active MLflow run.

    Returns:
        A `TaskOutcome` with ``test_wer``, ``test_cer`` and ``test_exact_accuracy``
        (and the same of ``test_held_out_flite`` for a generated set).
    """
    import keras
    import mlflow

    from data.pipeline import array_batches
    from pipelines.best_epoch import BestEpoch
    from pipelines.fitting import fit
    from pipelines.plots import training_curves_figure
    from pipelines.speech_data import clip_array
    from pipelines.speech_outcome import finish_digit_reader
    from pipelines.tracking import log_new_params

    keras.utils.set_random_seed(config.seed)
    data = load_data(config, locations)
    words = vocabulary_of(data)
    model = build_model(config, data)

    def arrays(name):
        clips = data.splits[name]
        return clip_array(clips, config.clip_samples()), encoded_transcripts(clips.texts, words)

    best = BestEpoch(_validation_score(model, data, words, config), "val_wer", "min")
    history = fit(
        model,
        array_batches(arrays("train"), config.batch_size, config.seed),
        array_batches(arrays("validation"), config.batch_size),
        config,
        extra_callbacks=[best],
    )
    log_new_params({"best_epoch": best.best_epoch})
    mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    return finish_digit_reader(model, data, words, config)


TASK = Task(
    name="speech_digits",
    summary="spoken digit strings: log-mel inside the model -> our conv blocks -> BiLSTM -> CTC",
    options=SpeechDigitsOptions,
    defaults=TaskDefaults("spoken_digits", epochs=20, batch_size=32, learning_rate=3e-3),
    load_data=load_data,
    build_model=build_model,
    train=train,
    check=check,
    preset=speech_preset,
)
