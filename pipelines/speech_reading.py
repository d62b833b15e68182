"""Transcribing clips with a trained digit reader on the host, and showing what was heard."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data.speech import SpeechClips
    from pipelines.config import TrainConfig

READ_BATCH = 64
_TRANSCRIBERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled(reader, words: tuple[str, ...], beam_width: int):
    """``clips -> text`` of a reader as one graph, traced once per vocabulary and beam width."""
    import tensorflow as tf

    from models.speech import transcribe

    by_setting = _TRANSCRIBERS.setdefault(reader, {})
    key = (words, beam_width)
    if key not in by_setting:
        strategy = "greedy" if beam_width == 1 else "beam_search"
        clip_samples = int(reader.input_shape[1])

        @tf.function(input_signature=[tf.TensorSpec((None, clip_samples), tf.float32)])
        def read(clips):
            return transcribe(reader, clips, words, strategy, beam_width)[0]

        by_setting[key] = read
    return by_setting[key]


def heard_texts(reader, clips: SpeechClips, words: Sequence[str], config: TrainConfig) -> list[str]:
    """What ``reader`` hears in each clip (``config.beam_width`` 1: greedy, else beam search)."""
    from data.audio import padded_waves

    read = _compiled(reader, tuple(words), config.beam_width)
    clip_samples = int(reader.input_shape[1])
    heard = []
    for start in range(0, len(clips), READ_BATCH):
        batch = padded_waves(clips.waves[start : start + READ_BATCH], clip_samples)
        heard.extend(text.decode("utf-8") for text in read(batch).numpy())
    return heard


def transcript_lines(said: Sequence[str], heard: Sequence[str]) -> str:
    """One line per clip: ``ok`` or ``XX``, what was said, what was heard."""
    lines = [
        f"{'ok' if h == s else 'XX'}  said: {s:<40}  heard: {h}"
        for s, h in zip(said, heard, strict=True)
    ]
    return "\n".join(lines) + "\n"
