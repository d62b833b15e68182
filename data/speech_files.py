"""Speech a user brings: a folder per word, or WAV files listed in a transcripts file.

- `read_word_folders`: ``root/<word>/<clip>.wav``, the Speech Commands
  layout (folders whose names start with ``_``, such as its
  ``_background_noise_``, are not words and are left out);
- `read_transcripts`: a file of ``clip<TAB>text`` lines (a third column,
  when there, names the speaker), clip paths relative to the file's folder.

Every clip goes through `data.audio.read_wav`: mono ``float32`` at the
requested rate (PCM scaled, channels mixed down, other rates resampled). A
file that cannot be read, or holds no samples, is skipped; one warning
counts and names the skipped files, and a source with no readable clip
raises.

Speakers (what `speaker_splits` keeps apart): the transcripts' third
column; else the part of a file name before ``_nohash_``, as Speech
Commands names its clips (``0a7c2a8d_nohash_1.wav`` is speaker
``0a7c2a8d``); else the file itself (each clip its own speaker).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from data.audio import read_wav, resample, scaled_samples, to_mono
from data.image_folder import warn_skipped
from data.speech import SpeechClips
from data.splits import grouped_split_indices

WAV_SUFFIX = ".wav"
SPEAKER_SEPARATOR = "_nohash_"


def speaker_of(path: Path) -> str:
    """The speaker a clip's file name gives (see the module docstring)."""
    stem = path.stem
    return stem.split(SPEAKER_SEPARATOR)[0] if SPEAKER_SEPARATOR in stem else stem


def _read_clips(entries, sample_rate: int, where) -> SpeechClips:
    """``(path, text, speaker)`` entries -> `SpeechClips`, skipping unreadable files."""
    waves, texts, speakers, skipped = [], [], [], []
    for path, text, speaker in entries:
        try:
            waves.append(read_wav(path, sample_rate))
        except (ValueError, FileNotFoundError):
            skipped.append(str(path.relative_to(where) if path.is_relative_to(where) else path))
            continue
        texts.append(text)
        speakers.append(speaker)
    if not waves:
        raise ValueError(
            f"None of the {len(skipped)} clips of {where} can be read as WAV audio, e.g. "
            f"{skipped[0]!r}. Convert them to PCM WAV, e.g. `sox in.mp3 out.wav`."
        )
    warn_skipped(skipped, where, stacklevel=4, what="readable WAV files")
    return SpeechClips(tuple(waves), tuple(texts), tuple(speakers), sample_rate)


def read_word_folders(root: str | os.PathLike, sample_rate: int = 16000) -> SpeechClips:
    """The clips of ``root/<word>/*.wav``, each saying its folder's name.

    Args:
        root: The folder of word folders.
        sample_rate: The rate every clip is returned at.

    Returns:
        `SpeechClips`, words in sorted folder order, clips in name order.

    Raises:
        FileNotFoundError: If ``root`` is not a folder.
        ValueError: If it has no word folder with a WAV file, or no clip reads.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"No such folder of word folders: {root}")
    words = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))
    entries = [
        (clip, word.name, speaker_of(clip))
        for word in words
        for clip in sorted(word.iterdir())
        if clip.suffix.lower() == WAV_SUFFIX
    ]
    if not entries:
        raise ValueError(
            f"{root} holds no word folder with .wav files; expected root/<word>/<clip>.wav "
            "(the Speech Commands layout)."
        )
    return _read_clips(entries, sample_rate, root)


def read_transcripts(path: str | os.PathLike, sample_rate: int = 16000) -> SpeechClips:
    """The clips a ``clip<TAB>text[<TAB>speaker]`` file lists, with their texts.

    Texts are lower-cased with their spaces collapsed. Blank lines are skipped.

    Args:
        path: The transcripts file; clip paths are relative to its folder.
        sample_rate: The rate every clip is returned at.

    Returns:
        `SpeechClips` in the file's order.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: On a file that is not text, a line without a tab or with
            an empty text (naming its number), no line, or no clip that reads.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such transcripts file: {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ValueError(
            f"{path} is not a transcripts file (UTF-8 text of 'clip<TAB>text' lines). Pass a "
            "transcripts file, or a folder per word (root/<word>/<clip>.wav)."
        ) from None
    entries = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\r\n").split("\t")
        text = " ".join(fields[1].split()).lower() if len(fields) > 1 else ""
        if len(fields) not in (2, 3) or not fields[0].strip() or not text:
            raise ValueError(
                f"{path}, line {number}: expected 'clip<TAB>text' (or "
                f"'clip<TAB>text<TAB>speaker') with a text. Received {line!r}."
            )
        clip = path.parent / fields[0].strip()
        speaker = fields[2].strip() if len(fields) == 3 and fields[2].strip() else speaker_of(clip)
        entries.append((clip, text, speaker))
    if not entries:
        raise ValueError(f"{path} lists no clip; expected 'clip<TAB>text' lines.")
    return _read_clips(entries, sample_rate, path.parent)


def speaker_splits(
    clips: SpeechClips, validation_fraction: float, test_fraction: float, seed: int
) -> tuple[SpeechClips, SpeechClips, SpeechClips]:
    """``(train, validation, test)`` of one set, no speaker in two of them, each shuffled.

    Args:
        clips: The whole set.
        validation_fraction: Share of clips for validation.
        test_fraction: Share of clips for test.
        seed: Seed of which speakers go where and of each split's order (so
            ``max_examples`` keeps clips of every word, not the first words).

    Returns:
        The three splits.

    Raises:
        ValueError: With fewer than 3 speakers, a part left empty, or a
            training split smaller than another (a speaker with most clips).
    """
    parts = grouped_split_indices(clips.speakers, validation_fraction, test_fraction, seed)
    sizes = [len(part) for part in parts]
    if sizes[0] < max(sizes[1:]):
        largest = max(set(clips.speakers), key=clips.speakers.count)
        raise ValueError(
            f"Split by speaker, the {len(clips)} clips give train {sizes[0]}, validation "
            f"{sizes[1]} and test {sizes[2]}: speaker {largest!r} says "
            f"{clips.speakers.count(largest)} of them. Add clips of other speakers, or name "
            "each clip's speaker in the transcripts' third column."
        )
    rng = np.random.default_rng(seed)
    return tuple(clips.subset(rng.permutation(part)) for part in parts)


TFDS_AUDIO = "audio"
TFDS_TEXTS = ("text", "transcript", "label")
"""Features a TFDS speech dataset may say its clips' words in, in order of preference."""


def tfds_text_feature(info) -> str:
    """The feature of a TFDS speech dataset that holds what is said.

    Raises:
        ValueError: If it has no ``audio`` feature or none of `TFDS_TEXTS`.
    """
    features = sorted(info.features.keys())
    text = next((name for name in TFDS_TEXTS if name in info.features), None)
    if TFDS_AUDIO not in info.features or text is None:
        raise ValueError(
            f"TFDS dataset {info.name!r} has features {features}; a speech task reads "
            f"'{TFDS_AUDIO}' and one of {list(TFDS_TEXTS)}."
        )
    return text


def tfds_speech_clips(
    examples, text_feature: str, audio_rate: int, sample_rate: int, label_names=()
) -> SpeechClips:
    """TFDS examples (NumPy dicts) with ``audio`` and a text feature as `SpeechClips`.

    Args:
        examples: Dicts with ``audio`` (integer PCM or float samples) and ``text_feature``.
        text_feature: The feature holding what is said (`tfds_text_feature`).
        audio_rate: The dataset's sample rate.
        sample_rate: The rate to return.
        label_names: Names of a class-label feature's ids.

    Clips without samples or text are left out; every clip is its own
    speaker (TFDS speech sets seldom name them).
    """
    waves, texts = [], []
    for example in examples:
        samples = np.asarray(example[TFDS_AUDIO])
        said = example[text_feature]
        if isinstance(said, (int, np.integer)) and label_names:
            said = label_names[int(said)]
        said = said.decode("utf-8") if isinstance(said, bytes) else str(said)
        said = " ".join(said.split()).lower()
        if samples.size and said:
            waves.append(resample(to_mono(scaled_samples(samples)), audio_rate, sample_rate))
            texts.append(said)
    speakers = tuple(f"clip{i}" for i in range(len(texts)))
    return SpeechClips(tuple(waves), tuple(texts), speakers, sample_rate)
