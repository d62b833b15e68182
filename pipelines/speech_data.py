"""The data of the speech tasks: clips from the ``dataset`` option, split by speaker, checked.

``dataset`` is a generated set (``spoken_commands``, ``spoken_digits``:
`data.speech.generated_speech`, with its ``test_held_out_flite`` split), a
folder per word, a transcripts file (`data.speech_files`), or a TFDS
dataset with ``audio`` and ``label``/``text`` features. A folder or file is
split with `data.speech_files.speaker_splits`, so no test speaker is
trained on. Clips longer than ``clip_seconds`` are left out (counted, with
a warning that says what ``clip_seconds`` would keep them).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from data import DataLocations
    from data.speech import SpeechClips
    from pipelines.config import TrainConfig

FILE_HINT = "a folder per word (root/<word>/<clip>.wav) or a transcripts file (clip<TAB>text lines)"
GENERATED = {"spoken_commands": "commands", "spoken_digits": "digits"}
"""The generated sets, by the `data.speech.generated_speech` kind they say."""
EVALUATION_SHARE = 8  # a generated set's validation and test splits: 1/8 of its training clips


@dataclasses.dataclass(frozen=True)
class SpeechData:
    """Clips ready to train on.

    Attributes:
        name: Dataset name, fit for folder and model names.
        splits: ``train``, ``validation``, ``test`` and, for generated sets,
            ``test_held_out_flite``: `SpeechClips` at the configured rate.
        long_clips: Clips left out for being longer than ``clip_seconds``.
    """

    name: str
    splits: dict[str, SpeechClips]
    long_clips: int = 0


def _tfds_splits(name: str, config: TrainConfig, locations):
    from data.choice import tfds_examples, tfds_three_splits
    from data.speech_files import tfds_speech_clips, tfds_text_feature

    info, splits = tfds_examples(name, locations)
    text = tfds_text_feature(info)
    audio_rate = getattr(info.features["audio"], "sample_rate", None) or config.sample_rate
    names = getattr(info.features[text], "names", ())

    def read(split):
        return tfds_speech_clips(splits[split], text, audio_rate, config.sample_rate, names)

    return tfds_three_splits(name, splits, read, config.validation_fraction)


def _without_long_clips(splits: dict, clip_samples: int, sample_rate: int):
    """The splits without clips over ``clip_samples``, and how many were left out."""
    kept, left_out, longest = {}, 0, 0
    for name, clips in splits.items():
        if not len(clips):  # refused, with its name, by load_speech
            kept[name] = clips
            continue
        lengths = np.array([len(wave) for wave in clips.waves])
        keep = np.flatnonzero(lengths <= clip_samples)
        left_out += len(clips) - len(keep)
        longest = max(longest, int(lengths.max()))
        kept[name] = clips.subset(keep) if len(keep) < len(clips) else clips
    if left_out:
        warnings.warn(
            f"Left out {left_out} clip(s) longer than clip_seconds="
            f"{clip_samples / sample_rate:g}; the longest is {longest / sample_rate:.2f} s. "
            f"Set clip_seconds={np.ceil(longest / sample_rate * 10) / 10:g} to keep them.",
            UserWarning,
            stacklevel=3,
        )
    return kept, left_out


def load_speech(
    config: TrainConfig, locations: DataLocations | None, generated: tuple[str, ...]
) -> SpeechData:
    """The config's clips.

    Args:
        config: Gives the dataset, the rate, the clip length and the split shares.
        locations: Where TFDS looks for local data.
        generated: The generated sets (`GENERATED`) the task takes.

    Raises:
        ValueError: On a dataset of another task, a source that does not
            read, too few speakers to split by, or a split left empty.
        FileNotFoundError: If a synthesiser is not installed for a generated set.
    """
    from data.choice import CATALOG, SPLIT_SEED, TFDS, choose_dataset, cut_to
    from data.specs import HELD_OUT_FLITE, SPEECH_RECOGNITION, TEST, TRAIN, VALIDATION
    from data.speech import generated_speech
    from data.speech_files import read_transcripts, read_word_folders, speaker_splits

    choice = choose_dataset(config.dataset, SPEECH_RECOGNITION, FILE_HINT, folders=True)
    held_out = None
    if choice.kind == CATALOG and choice.name not in generated:
        raise ValueError(
            f"Invalid value for argument `dataset`: task {config.task} takes the generated set "
            f"{' or '.join(generated)}, not {choice.name!r}. Received dataset={config.dataset!r}."
        )
    if choice.kind == CATALOG:
        evaluation = max(1, config.training_clips() // EVALUATION_SHARE)
        made = generated_speech(
            GENERATED[choice.name],
            config.training_clips(),
            evaluation,
            evaluation,
            seed=SPLIT_SEED,
            sample_rate=config.sample_rate,
        )
        train, validation, test = (made[name] for name in (TRAIN, VALIDATION, TEST))
        held_out = made[HELD_OUT_FLITE]
    elif choice.kind == TFDS:
        train, validation, test = _tfds_splits(choice.name, config, locations)
    else:
        read = read_word_folders if choice.path.is_dir() else read_transcripts
        train, validation, test = speaker_splits(
            read(choice.path, config.sample_rate),
            config.validation_fraction,
            config.test_fraction,
            SPLIT_SEED,
        )
    train, test = cut_to(config.max_examples, train, test)
    splits = {TRAIN: train, VALIDATION: validation, TEST: test}
    if held_out is not None:
        splits[HELD_OUT_FLITE] = cut_to(config.max_examples, held_out)[0]
    splits, long_clips = _without_long_clips(splits, config.clip_samples(), config.sample_rate)
    empty = [name for name, clips in splits.items() if not len(clips)]
    if empty:
        raise ValueError(
            f"Split(s) {empty} of dataset {config.dataset!r} have no clip left ({long_clips} "
            "were longer than clip_seconds). Use more data or a larger clip_seconds."
        )
    return SpeechData(choice.label, splits, long_clips)


def clip_array(clips: SpeechClips, clip_samples: int) -> np.ndarray:
    """``float32 [clips, clip_samples]``: every clip padded with zeros at its end."""
    from data.audio import padded_waves

    return padded_waves(clips.waves, clip_samples)
