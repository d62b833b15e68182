"""The translation task of the train pipeline: parallel text -> encoder-decoder -> SavedModel.

Data: the generated number-words task offline (default: digits -> English
words, test numbers never seen in training), a tab-separated file of
``source<TAB>target`` lines (Tatoeba/Anki), or a TFDS translation dataset
(``tfds:ted_hrlr_translate/pt_to_en``; source and target are its supervised
keys). Unsplit data is split with a fixed seed. Vectorizers are adapted on
the training split only; targets are wrapped in ``[start] ... [end]``.

Reported on the test split: exact match and corpus BLEU-4 of the decoded
sentences (greedy or beam search, ``beam_width``); a few validation
translations are logged as text after every epoch.
"""

from __future__ import annotations

import dataclasses
import re
import string

import keras
import mlflow
import numpy as np
import tensorflow as tf

from data import DataLocations, load_dataset
from data.pipeline import array_batches
from data.specs import FULL, TRANSLATION, ParallelSplit
from data.splits import held_out_indices, shuffled_split_indices
from data.tfds_source import load_tfds_examples
from data.translation import read_parallel_tsv
from models.decoding import beam_search_decode, greedy_decode
from models.translation import seq2seq
from pipelines.config import TrainConfig
from pipelines.datasets import CATALOG, FILE, choose_dataset
from pipelines.export import export_text_generator
from pipelines.fitting import adam, fit
from pipelines.metrics import corpus_bleu
from pipelines.plots import training_curves_figure
from pipelines.tracking import TaskOutcome, log_export, log_new_params

SPLIT_SEED = 0
START, END = "[start]", "[end]"
SAMPLES = 5
_STRIP = re.escape("".join(c for c in string.punctuation + "¿¡" if c not in "[]"))


@keras.saving.register_keras_serializable(package="convseq")
def standardize(texts):
    """Lower-cases and strips punctuation except the ``[`` ``]`` of the start/end tokens."""
    return tf.strings.regex_replace(tf.strings.lower(texts), f"[{_STRIP}]", "")


@dataclasses.dataclass(frozen=True)
class ParallelData:
    """The three splits of a translation dataset."""

    name: str
    train: ParallelSplit
    validation: ParallelSplit
    test: ParallelSplit


def _tfds_parallel(name: str, validation_fraction: float, locations: DataLocations | None):
    info, splits = load_tfds_examples(
        name,
        allow_download=locations.allow_download if locations else True,
        probe=locations.probe if locations else None,
    )
    keys = info.supervised_keys
    if not keys or len(keys) != 2:
        raise ValueError(
            f"TFDS dataset {name!r} has no (source, target) supervised keys; translation "
            "needs a parallel text dataset such as tfds:ted_hrlr_translate/pt_to_en."
        )
    source_key, target_key = keys

    def read(split: str) -> ParallelSplit:
        sources, targets = [], []
        for example in splits[split]:
            source = example[source_key].decode("utf-8").strip()
            target = example[target_key].decode("utf-8").strip()
            if source and target:
                sources.append(source)
                targets.append(target)
        return ParallelSplit(np.array(sources, dtype=object), np.array(targets, dtype=object))

    train, test = read("train"), read("test")
    if "validation" in splits:
        return train, read("validation"), test
    kept, held_out = held_out_indices(len(train), validation_fraction, SPLIT_SEED)
    return train.subset(kept), train.subset(held_out), test


def load_parallel_data(config: TrainConfig, locations: DataLocations | None = None) -> ParallelData:
    """The train/validation/test pairs the config names, cut to ``max_examples``.

    Raises:
        ValueError: On a dataset of another task or a file without pairs.
        data.DatasetUnavailableError: If the data cannot be found.
    """
    choice = choose_dataset(
        config.dataset, TRANSLATION, "a tab-separated file of source<TAB>target lines"
    )
    if choice.kind in (CATALOG, FILE):
        if choice.kind == CATALOG:
            full = load_dataset(choice.name, locations)[1][FULL]
        else:
            full = read_parallel_tsv(choice.path)
        parts = shuffled_split_indices(
            len(full), config.validation_fraction, config.test_fraction, SPLIT_SEED
        )
        train, validation, test = (full.subset(indices) for indices in parts)
    else:
        train, validation, test = _tfds_parallel(choice.name, config.validation_fraction, locations)
    if config.max_examples:
        train = train.subset(np.arange(min(config.max_examples, len(train))))
        test = test.subset(np.arange(min(config.max_examples, len(test))))
    return ParallelData(choice.label, train, validation, test)


@dataclasses.dataclass
class Vectorizers:
    """Source and target `TextVectorization`s adapted on the training pairs."""

    source: keras.layers.TextVectorization
    target: keras.layers.TextVectorization

    @property
    def target_vocabulary(self) -> list[str]:
        """Target token of each id."""
        return self.target.get_vocabulary()

    def token_id(self, token: str) -> int:
        """The target id of ``token``."""
        return self.target_vocabulary.index(token)


def _longest(texts: np.ndarray, cap: int, extra: int = 0) -> int:
    lengths = [len(standardize(str(t)).numpy().split()) for t in texts[:20000]]
    return max(1, min(max(lengths) + extra, cap))


def adapt_vectorizers(config: TrainConfig, train: ParallelSplit) -> Vectorizers:
    """Vectorizers whose vocabularies and lengths come from the training pairs only."""
    wrapped = np.array([f"{START} {t} {END}" for t in train.targets], dtype=object)
    source = keras.layers.TextVectorization(
        max_tokens=config.vocabulary_size,
        standardize=standardize,
        output_sequence_length=_longest(train.sources, config.sequence_length),
        name="source_vectorizer",
    )
    target = keras.layers.TextVectorization(
        max_tokens=config.vocabulary_size,
        standardize=standardize,
        # one more than the longest wrapped target: inputs and labels are shifted copies
        output_sequence_length=_longest(wrapped, config.sequence_length + 2, extra=1),
        name="target_vectorizer",
    )
    source.adapt(train.sources.astype(str), batch_size=1024)
    target.adapt(wrapped.astype(str), batch_size=1024)
    return Vectorizers(source, target)


def _teacher_forcing(vectorizers: Vectorizers, split: ParallelSplit):
    sources = vectorizers.source(split.sources.astype(str)).numpy()
    wrapped = [f"{START} {t} {END}" for t in split.targets]
    targets = vectorizers.target(np.array(wrapped)).numpy()
    decoder_inputs, labels = targets[:, :-1], targets[:, 1:]
    return (sources, decoder_inputs), labels, (labels > 0).astype(np.float32)


def decoder(model, vectorizers: Vectorizers, config: TrainConfig):
    """``source_ids -> token ids`` by greedy (beam_width 1) or beam search."""
    settings = {
        "start_id": vectorizers.token_id(START),
        "end_id": vectorizers.token_id(END),
        "max_length": vectorizers.target.get_config()["output_sequence_length"] - 1,
    }
    if config.beam_width > 1:
        return lambda ids: beam_search_decode(model, ids, beam_width=config.beam_width, **settings)
    return lambda ids: greedy_decode(model, ids, **settings)


def decode_texts(model, vectorizers: Vectorizers, config: TrainConfig, texts) -> list[list[str]]:
    """Translations of raw source texts, as token lists (up to, without, the end token)."""
    decode = tf.function(
        decoder(model, vectorizers, config),
        input_signature=[tf.TensorSpec((None, None), tf.int64)],
    )
    vocabulary = vectorizers.target_vocabulary
    results = []
    for start in range(0, len(texts), 512):
        ids = decode(vectorizers.source(np.asarray(texts[start : start + 512]).astype(str)))
        for row in ids.numpy():
            tokens = []
            for token_id in row:
                if token_id in (0, vectorizers.token_id(END)):
                    break
                tokens.append(vocabulary[token_id])
            results.append(tokens)
    return results


class TranslationSamples(keras.callbacks.Callback):
    """Logs a few validation translations as ``samples/epoch_NNN.txt`` after every epoch."""

    def __init__(self, translate, sources, references):
        super().__init__()
        self.translate = translate
        self.sources = sources
        self.references = references

    def on_epoch_end(self, epoch, logs=None):
        predictions = self.translate(self.sources)
        lines = [
            f"source: {s}\nreference: {r}\nprediction: {' '.join(p)}\n"
            for s, r, p in zip(self.sources, self.references, predictions)
        ]
        mlflow.log_text("\n".join(lines), f"samples/epoch_{epoch + 1:03d}.txt")


def train_translator(config: TrainConfig, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains, evaluates and exports an encoder-decoder inside the active MLflow run.

    Returns:
        A `TaskOutcome` with ``test_exact_match`` and ``test_bleu``.
    """
    data = load_parallel_data(config, locations)
    vectorizers = adapt_vectorizers(config, data.train)
    train_inputs, train_labels, train_weights = _teacher_forcing(vectorizers, data.train)
    validation = _teacher_forcing(vectorizers, data.validation)
    keras.utils.set_random_seed(config.seed)
    attention = None if config.attention == "none" else config.attention
    name = f"{data.name}_{config.cell}_{config.attention}_seq2seq"
    model = seq2seq(
        vectorizers.source.vocabulary_size(),
        vectorizers.target.vocabulary_size(),
        embedding_dim=config.embedding_dim,
        recurrent=config.recurrent_spec(),
        attention=attention,
        name=name,
    )
    model.training.compile(optimizer=adam(config), loss="sparse_categorical_crossentropy")

    def translate(texts):
        return decode_texts(model, vectorizers, config, texts)

    samples = TranslationSamples(
        translate, data.validation.sources[:SAMPLES], data.validation.targets[:SAMPLES]
    )
    history = fit(
        model.training,
        array_batches((train_inputs, train_labels, train_weights), config.batch_size, config.seed),
        array_batches(validation, 256),
        config,
        extra_callbacks=[samples],
    )
    log_new_params(
        {
            "model_parameters": model.training.count_params(),
            "source_vocabulary": vectorizers.source.vocabulary_size(),
            "target_vocabulary": vectorizers.target.vocabulary_size(),
            "train_pairs": len(data.train),
            "validation_pairs": len(data.validation),
            "test_pairs": len(data.test),
        }
    )
    predictions = translate(data.test.sources)
    references = [standardize(str(t)).numpy().decode().split() for t in data.test.targets]
    test_metrics = {
        "test_exact_match": float(np.mean([p == r for p, r in zip(predictions, references)])),
        "test_bleu": corpus_bleu([[r] for r in references], predictions),
    }
    mlflow.log_metrics(test_metrics)
    mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    export_path = export_text_generator(
        model,
        vectorizers.source,
        tf.TensorSpec((None,), tf.string, name="texts"),
        vectorizers.target_vocabulary,
        decoder(model, vectorizers, config),
        END,
        config.export_dir,
        name,
        "translation",
    )
    log_export(export_path)
    return TaskOutcome(export_path, test_metrics)
