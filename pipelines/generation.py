"""What the text-generating tasks (translation, captioning) share.

Targets are wrapped in ``[start] ... [end]`` and vectorized by a
`TextVectorization` adapted on the training targets only; the decoder is
trained with teacher forcing (inputs and labels are the same ids shifted by
one) and generates with greedy or beam-search decoding.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence

import keras
import mlflow
import numpy as np
import tensorflow as tf

from models.decoding import beam_search_decode, greedy_decode

START, END = "[start]", "[end]"
SAMPLES = 5
_STRIP = re.escape("".join(c for c in string.punctuation + "¿¡" if c not in "[]"))


@keras.saving.register_keras_serializable(package="convseq")
def standardize(texts):
    """Lower-cases and strips punctuation except the ``[`` ``]`` of the start/end tokens."""
    return tf.strings.regex_replace(tf.strings.lower(texts), f"[{_STRIP}]", "")


def tokens_of(text: str) -> list[str]:
    """The tokens a reference text is compared by (standardized, split on whitespace)."""
    return standardize(str(text)).numpy().decode().split()


def longest(texts: Sequence[str], cap: int, extra: int = 0) -> int:
    """Tokens in the longest of (up to 20,000) texts plus ``extra``, at most ``cap``."""
    lengths = [len(tokens_of(t)) for t in list(texts)[:20000]]
    return max(1, min(max(lengths) + extra, cap))


def wrap(texts: Sequence[str]) -> np.ndarray:
    """``"[start] text [end]"`` for each text."""
    return np.array([f"{START} {t} {END}" for t in texts], dtype=object)


def target_vectorizer(
    texts: Sequence[str], vocabulary_size: int, max_tokens: int
) -> keras.layers.TextVectorization:
    """A vectorizer adapted on the wrapped training targets.

    Its sequence length is one more than the longest wrapped target (at most
    ``max_tokens + 3``), so decoder inputs and labels are shifted copies.
    """
    wrapped = wrap(texts)
    vectorizer = keras.layers.TextVectorization(
        max_tokens=vocabulary_size,
        standardize=standardize,
        output_sequence_length=longest(wrapped, max_tokens + 2, extra=1),
        name="target_vectorizer",
    )
    vectorizer.adapt(wrapped.astype(str), batch_size=1024)
    return vectorizer


def teacher_forcing(vectorizer, texts: Sequence[str]):
    """``(decoder_input_ids, label_ids, weights)``: weights are 0 on padding."""
    ids = vectorizer(wrap(texts).astype(str)).numpy()
    labels = ids[:, 1:]
    return ids[:, :-1], labels, (labels > 0).astype(np.float32)


def make_decoder(model, vectorizer, beam_width: int) -> Callable:
    """``encoder input -> token ids`` by greedy (``beam_width`` 1) or beam search."""
    vocabulary = vectorizer.get_vocabulary()
    settings = {
        "start_id": vocabulary.index(START),
        "end_id": vocabulary.index(END),
        "max_length": vectorizer.get_config()["output_sequence_length"] - 1,
    }
    if beam_width > 1:
        return lambda inputs: beam_search_decode(model, inputs, beam_width=beam_width, **settings)
    return lambda inputs: greedy_decode(model, inputs, **settings)


def generate(
    decode, vectorizer, inputs, input_spec: tf.TensorSpec, preprocess=None
) -> list[list[str]]:
    """Decoded token lists (up to, without, the end token) for raw inputs, in batches of 256."""
    traced = tf.function(decode, input_signature=[input_spec])
    vocabulary = vectorizer.get_vocabulary()
    end_id = vocabulary.index(END)
    results = []
    for start in range(0, len(inputs), 256):
        batch = inputs[start : start + 256]
        ids = traced(preprocess(batch) if preprocess is not None else batch)
        for row in ids.numpy():
            tokens = []
            for token_id in row:
                if token_id in (0, end_id):
                    break
                tokens.append(vocabulary[token_id])
            results.append(tokens)
    return results


class SampleLog(keras.callbacks.Callback):
    """Logs a few validation predictions as ``samples/epoch_NNN.txt`` after every epoch.

    Args:
        predict: ``inputs -> token lists``.
        inputs: A few validation inputs.
        descriptions: How to show each input (the source text, an image's index).
        references: The reference text of each.
    """

    def __init__(self, predict, inputs, descriptions, references):
        super().__init__()
        self.predict_tokens = predict
        self.inputs = inputs
        self.descriptions = descriptions
        self.references = references

    def on_epoch_end(self, epoch, logs=None):
        predictions = self.predict_tokens(self.inputs)
        lines = [
            f"input: {d}\nreference: {r}\nprediction: {' '.join(p)}\n"
            for d, r, p in zip(self.descriptions, self.references, predictions)
        ]
        mlflow.log_text("\n".join(lines), f"samples/epoch_{epoch + 1:03d}.txt")


def finish_generator(
    model, preprocess, input_spec: tf.TensorSpec, vectorizer, decode, config, history, metrics
):
    """Logs a text generator's test metrics and curves, exports and logs it in the active run.

    Args:
        model: The encoder-decoder (``Seq2Seq``).
        preprocess: Raw inputs -> encoder inputs, inside the export.
        input_spec: The export's raw input.
        vectorizer: The target vectorizer (its vocabulary names the tokens).
        decode: Greedy or beam-search decoding (`make_decoder`).
        config: Gives ``export_dir`` and ``registered_model_name``.
        history: The training history, for the curves.
        metrics: The test metrics.

    Returns:
        A `pipelines.tracking.TaskOutcome`.
    """
    from pipelines.export import export_text_generator
    from pipelines.plots import training_curves_figure
    from pipelines.tracking import TaskOutcome, log_export

    mlflow.log_metrics(metrics)
    mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    export_path = export_text_generator(
        model,
        preprocess,
        input_spec,
        vectorizer.get_vocabulary(),
        decode,
        END,
        config.export_dir,
        model.training.name,
    )
    log_export(export_path, registered_model_name=config.registered_model_name)
    return TaskOutcome(export_path, metrics)
