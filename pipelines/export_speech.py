"""The SavedModel of a speech model: raw waveforms or WAV bytes in, text out.

Endpoints:

- ``serve(audio)`` (also ``serving_default``): ``float32 [batch, samples]``
  mono waveforms at the model's sample rate, in ``[-1, 1]``; clips of a
  batch padded with zeros to one length;
- ``serve_wav_bytes(wav_bytes)``: ``string [batch]`` 16-bit PCM WAV files,
  each of its own length, decoded in the graph, channels mixed down.

In the graph every clip is padded with silence to the model's clip length
(the padding it was trained with). A clip longer than that, or a WAV file
at another sample rate, is refused with an error that says so (`convseq
predict` resamples on the host instead). ``assets.extra/audio.json`` holds
the sample rate and the clip length. The SavedModel loads with
`tf.saved_model.load` alone, without convseq.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import tensorflow as tf

from pipelines.export import EXTRA_DIR, export_endpoint

WAV_BYTES_ENDPOINT = "serve_wav_bytes"
AUDIO_FILE = "audio.json"


def padded_clips(audio, clip_samples: int, sample_rate: int):
    """``float32 [batch, samples]`` -> ``[batch, clip_samples]``, zeros after each clip.

    Raises (when run):
        InvalidArgumentError: If the clips are longer than ``clip_samples``.
    """
    audio = tf.convert_to_tensor(audio, tf.float32)
    length = tf.shape(audio)[1]
    checked = tf.debugging.assert_less_equal(
        length,
        clip_samples,
        message=(
            f"a clip is longer than the {clip_samples} samples the model takes "
            f"({clip_samples / sample_rate:g} s at {sample_rate} Hz): cut it into clips of at "
            "most that length"
        ),
    )
    with tf.control_dependencies([checked]):
        return tf.pad(tf.identity(audio), [[0, 0], [0, clip_samples - length]])


def decoded_wav_clips(wav_bytes, clip_samples: int, sample_rate: int):
    """``string [batch]`` 16-bit PCM WAV files -> ``float32 [batch, clip_samples]`` mono clips.

    Raises (when run):
        InvalidArgumentError: On a file at another sample rate, or too long.
    """

    def decode(data):
        audio, rate = tf.audio.decode_wav(data)
        checked = tf.debugging.assert_equal(
            rate,
            sample_rate,
            message=(
                f"the model takes WAV audio at {sample_rate} Hz: resample it first (e.g. `sox "
                f"in.wav -r {sample_rate} out.wav`), or use `convseq predict`, which resamples"
            ),
        )
        with tf.control_dependencies([checked]):
            mono = tf.reduce_mean(tf.identity(audio), axis=1)
        return padded_clips(mono[tf.newaxis], clip_samples, sample_rate)[0]

    return tf.map_fn(
        decode, wav_bytes, fn_output_signature=tf.TensorSpec((clip_samples,), tf.float32)
    )


def export_speech_model(
    tracked: Sequence,
    outputs: Callable,
    export_dir: str | os.PathLike,
    model_name: str,
    sample_rate: int,
    clip_samples: int,
    labels: Sequence[str] = (),
) -> Path:
    """Exports ``serve(audio)`` and ``serve_wav_bytes(wav_bytes)`` of a speech model.

    Args:
        tracked: The Keras models ``outputs`` calls.
        outputs: ``float32 [batch, clip_samples]`` clips -> dict of output tensors.
        export_dir: Root folder of exports.
        model_name: Subfolder per model; versions are numbered inside it.
        sample_rate: The model's sample rate, in Hz.
        clip_samples: The clip length it was trained on.
        labels: Class names, for a classifier.

    Returns:
        The new version's folder.
    """

    @tf.function(input_signature=[tf.TensorSpec((None, None), tf.float32, name="audio")])
    def serve(audio):
        return outputs(padded_clips(audio, clip_samples, sample_rate))

    @tf.function(input_signature=[tf.TensorSpec((None,), tf.string, name="wav_bytes")])
    def serve_wav_bytes(wav_bytes):
        return outputs(decoded_wav_clips(wav_bytes, clip_samples, sample_rate))

    def write_audio_settings(path: Path) -> None:
        extra = path / EXTRA_DIR
        extra.mkdir(parents=True, exist_ok=True)
        settings = {"sample_rate": sample_rate, "clip_samples": clip_samples}
        (extra / AUDIO_FILE).write_text(json.dumps(settings), encoding="utf-8")

    return export_endpoint(
        tracked,
        serve,
        export_dir,
        model_name,
        extra_endpoints={WAV_BYTES_ENDPOINT: serve_wav_bytes},
        labels=labels,
        write_extra=write_audio_settings,
    )


def export_command_classifier(
    model: keras.Model,
    words: Sequence[str],
    export_dir: str | os.PathLike,
    model_name: str,
    sample_rate: int,
) -> Path:
    """Exports a `models.speech.command_classifier` as ``serve(audio) -> text, probabilities``.

    Outputs: ``text`` (``string [batch]``, the most probable word),
    ``class_id`` (``int32 [batch]``), ``confidence`` (its probability) and
    ``probabilities`` (``float32 [batch, words]``, in the order of
    ``assets.extra/labels.txt``).

    Raises:
        ValueError: If the words do not match the model's outputs.
    """
    if model.output_shape[-1] != len(words):
        raise ValueError(
            f"Invalid value for argument `words`. The model tells {model.output_shape[-1]} "
            f"words apart; {len(words)} were given: {list(words)}."
        )

    def outputs(clips):
        names = tf.constant(list(words))
        probabilities = tf.cast(model(clips, training=False), tf.float32)
        class_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {
            "text": tf.gather(names, class_id),
            "class_id": class_id,
            "confidence": tf.reduce_max(probabilities, axis=-1),
            "probabilities": probabilities,
        }

    clip_samples = int(model.input_shape[1])
    return export_speech_model(
        [model], outputs, export_dir, model_name, sample_rate, clip_samples, labels=list(words)
    )


def export_digit_reader(
    reader: keras.Model,
    words: Sequence[str],
    export_dir: str | os.PathLike,
    model_name: str,
    sample_rate: int,
    strategy: str = "greedy",
    beam_width: int = 10,
) -> Path:
    """Exports a `models.speech.digit_reader` as ``serve(audio) -> text, confidence``.

    Outputs: ``text`` (``string [batch]``, the words heard, spaced) and
    ``confidence`` (``float32 [batch]``, see `models.ctc.ctc_decode`),
    decoded greedily or by CTC beam search. ``assets.extra/labels.txt``
    holds the vocabulary.

    Raises:
        ValueError: If the words do not match the reader's outputs, or on an unknown strategy.
    """
    from models.ctc import check_strategy
    from models.speech import transcribe

    if reader.output_shape[-1] != len(words) + 1:
        raise ValueError(
            f"Invalid value for argument `words`. The reader outputs {reader.output_shape[-1]} "
            f"ids (blank + {reader.output_shape[-1] - 1} words); {len(words)} were given."
        )
    check_strategy(strategy)

    def outputs(clips):
        text, confidence = transcribe(reader, clips, words, strategy, beam_width)
        return {"text": text, "confidence": confidence}

    clip_samples = int(reader.input_shape[1])
    return export_speech_model(
        [reader], outputs, export_dir, model_name, sample_rate, clip_samples, labels=list(words)
    )
