"""The speech_commands task: one word a clip -> log-mel, CNN, BiLSTM -> SavedModel taking audio.

Data (`pipelines.speech_data`): generated commands said by espeak-ng and
flite voices (``spoken_commands``, the Speech Commands vocabulary; its test
voices never trained on, and a ``test_held_out_flite`` split in flite
speakers never trained on), a folder per word, a transcripts file, or a
TFDS dataset. The words are the training clips' texts. The model
(`models.speech.command_classifier`) computes the log-mel spectrogram
inside, so it trains on and serves raw waveforms: conv blocks over the
spectrogram, a bidirectional LSTM (``cell``) over its frames, the last states decide.
Adam's learning rate decays along a cosine over the planned epochs.
Reported: accuracy of every test split, the confusion matrix, and sample
spectrograms with what was heard.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from pipelines.speech_models import speech_preset
from pipelines.tasks.base import Task, TaskDefaults
from pipelines.tasks.shared_options import (
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

TIME_POOLS = 2  # 1.5 s: 148 frames, 37 steps for the recurrent layers


@dataclasses.dataclass(frozen=True)
class SpeechCommandsOptions(
    ConvBlockOptions, RecurrentCellOptions, SpeechOptions, HeldOutTestOption
):
    """The options of the speech_commands task (its recurrent layers are bidirectional)."""


def check(config: TrainConfig) -> None:
    """The conv blocks leave a cell of a clip's spectrogram (checked before any data is made).

    Raises:
        ValueError: Naming the options and the fix.
    """
    from pipelines.speech_models import check_speech_model

    check_speech_model(config, TIME_POOLS)


def words_of(data: SpeechData) -> tuple[str, ...]:
    """The words the classifier tells apart: the training clips' texts, sorted.

    Raises:
        ValueError: If a clip of another split says a word no training clip says.
    """
    words = tuple(sorted(set(data.splits["train"].texts)))
    for name, clips in data.splits.items():
        unknown = sorted(set(clips.texts) - set(words))
        if unknown:
            raise ValueError(
                f"The {name} split says {unknown[:5]}, which no training clip says; a command "
                "classifier only learns the training words. Add training clips of them or "
                "remove those clips."
            )
    return words


def load_data(config: TrainConfig, locations: DataLocations | None = None) -> SpeechData:
    """The config's clips (`pipelines.speech_data.load_speech`), each saying one known word."""
    from pipelines.speech_data import load_speech

    data = load_speech(config, locations, ("spoken_commands",))
    words_of(data)
    return data


def build_model(config: TrainConfig, data: SpeechData) -> keras.Model:
    """The command classifier, compiled for sparse labels with a cosine-decayed Adam.

    Its log-mel values are standardized with the training clips' mean and
    variance (`pipelines.speech_models.spectrogram_statistics`).
    """
    from models.speech import command_classifier
    from pipelines.fitting import compile_classifier
    from pipelines.speech_models import cosine_decay, speech_front

    model = command_classifier(
        len(words_of(data)),
        speech_front(config, data, TIME_POOLS),
        config.recurrent_spec(bidirectional=True),
        name=f"{data.name}_bi{config.cell}_classifier",
    )
    compile_classifier(model, config, cosine_decay(config, data))
    return model


def labelled_arrays(clips, words, clip_samples: int):
    """``(waves [n, clip_samples], word ids [n])`` of some clips."""
    import numpy as np

    from pipelines.speech_data import clip_array

    ids = {word: index for index, word in enumerate(words)}
    labels = np.array([ids[text] for text in clips.texts], np.int32)
    return clip_array(clips, clip_samples), labels


def train(config: TrainConfig, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains, evaluates and exports a command classifier inside the active MLflow run.

    Returns:
        A `TaskOutcome` with ``test_accuracy`` (and ``test_held_out_flite_accuracy``).
    """
    import keras
    import mlflow

    from data.pipeline import array_batches
    from pipelines.fitting import fit
    from pipelines.plots import training_curves_figure
    from pipelines.speech_outcome import finish_command_classifier

    keras.utils.set_random_seed(config.seed)
    data = load_data(config, locations)
    words = words_of(data)
    model = build_model(config, data)
    train_arrays = labelled_arrays(data.splits["train"], words, config.clip_samples())
    validation = labelled_arrays(data.splits["validation"], words, config.clip_samples())
    history = fit(
        model,
        array_batches(train_arrays, config.batch_size, config.seed),
        array_batches(validation, config.batch_size),
        config,
    )
    mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    return finish_command_classifier(model, data, words, config)


TASK = Task(
    name="speech_commands",
    summary="spoken word classifier: log-mel inside the model -> our conv blocks -> BiLSTM",
    options=SpeechCommandsOptions,
    defaults=TaskDefaults("spoken_commands", epochs=25, batch_size=64, learning_rate=3e-3),
    load_data=load_data,
    build_model=build_model,
    train=train,
    check=check,
    preset=speech_preset,
)
