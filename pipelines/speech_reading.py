"""Transcribing clips with a trained digit reader on the host, and showing what was heard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data.speech import SpeechClips

READ_BATCH = 64


def transcriber(reader, words: Sequence[str], beam_width: int):
    """``clips -> string [batch]`` of a `models.speech.digit_reader`, one graph for any batch.

    Greedy decoding for ``beam_width`` 1, else CTC beam search. Build it once
    per reader and reuse it: each call of this function traces anew.
    """
    import tensorflow as tf

    from models.speech import transcribe

    strategy = "greedy" if beam_width == 1 else "beam_search"
    words = tuple(words)
    clip_samples = int(reader.input_shape[1])

    @tf.function(input_signature=[tf.TensorSpec((None, clip_samples), tf.float32)])
    def read(clips):
        return transcribe(reader, clips, words, strategy, beam_width)[0]

    return read


def heard_texts(read, clips: SpeechClips) -> list[str]:
    """What a `transcriber` hears in each clip (clips zero-padded to the reader's length)."""
    from data.audio import padded_waves

    clip_samples = int(read.input_signature[0].shape[1])
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
