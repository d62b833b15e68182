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

import keras
import mlflow
import numpy as np
import tensorflow as tf

from data import DataLocations
from data.pipeline import array_batches
from data.specs import TRANSLATION, ParallelSplit
from data.translation import read_parallel_tsv
from models.translation import seq2seq
from pipelines.config import TrainConfig
from pipelines.datasets import (
    choose_dataset,
    tfds_examples,
    tfds_three_splits,
    unsplit_or_tfds_splits,
)
from pipelines.export import export_text_generator
from pipelines.fitting import adam, fit
from pipelines.generation import (
    END,
    SAMPLES,
    SampleLog,
    generate,
    longest,
    make_decoder,
    standardize,
    target_vectorizer,
    teacher_forcing,
    tokens_of,
)
from pipelines.metrics import corpus_bleu
from pipelines.plots import training_curves_figure
from pipelines.tracking import TaskOutcome, log_export, log_new_params


@dataclasses.dataclass(frozen=True)
class ParallelData:
    """The three splits of a translation dataset."""

    name: str
    train: ParallelSplit
    validation: ParallelSplit
    test: ParallelSplit


def _tfds_parallel(name: str, validation_fraction: float, locations: DataLocations | None):
    info, splits = tfds_examples(name, locations)
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

    return tfds_three_splits(name, splits, read, validation_fraction)


def load_parallel_data(config: TrainConfig, locations: DataLocations | None = None) -> ParallelData:
    """The train/validation/test pairs the config names, cut to ``max_examples``.

    Raises:
        ValueError: On a dataset of another task or a file without pairs.
        data.DatasetUnavailableError: If the data cannot be found.
    """
    choice = choose_dataset(
        config.dataset, TRANSLATION, "a tab-separated file of source<TAB>target lines"
    )
    train, validation, test = unsplit_or_tfds_splits(
        choice,
        config,
        locations,
        read_parallel_tsv,
        lambda: _tfds_parallel(choice.name, config.validation_fraction, locations),
    )
    return ParallelData(choice.label, train, validation, test)


def adapt_vectorizers(config: TrainConfig, train: ParallelSplit):
    """``(source, target)`` vectorizers: vocabularies and lengths from the training pairs only."""
    source = keras.layers.TextVectorization(
        max_tokens=config.vocabulary_size,
        standardize=standardize,
        output_sequence_length=longest(train.sources, config.sequence_length),
        name="source_vectorizer",
    )
    source.adapt(train.sources.astype(str), batch_size=1024)
    target = target_vectorizer(train.targets, config.vocabulary_size, config.sequence_length)
    return source, target


def train_translator(config: TrainConfig, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains, evaluates and exports an encoder-decoder inside the active MLflow run.

    Returns:
        A `TaskOutcome` with ``test_exact_match`` and ``test_bleu``.
    """
    data = load_parallel_data(config, locations)
    source, target = adapt_vectorizers(config, data.train)

    def forced(split: ParallelSplit):
        decoder_inputs, labels, weights = teacher_forcing(target, split.targets)
        return (source(split.sources.astype(str)).numpy(), decoder_inputs), labels, weights

    keras.utils.set_random_seed(config.seed)
    attention = None if config.attention == "none" else config.attention
    name = f"{data.name}_{config.cell}_{config.attention}_seq2seq"
    model = seq2seq(
        source.vocabulary_size(),
        target.vocabulary_size(),
        embedding_dim=config.embedding_dim,
        recurrent=config.recurrent_spec(),
        attention=attention,
        name=name,
    )
    model.training.compile(optimizer=adam(config), loss="sparse_categorical_crossentropy")
    decode = make_decoder(model, target, config.beam_width)

    def translate(texts):
        return generate(
            decode,
            target,
            np.asarray(texts).astype(str),
            tf.TensorSpec((None, None), tf.int64),
            preprocess=source,
        )

    shown = data.validation.sources[:SAMPLES]
    history = fit(
        model.training,
        array_batches(forced(data.train), config.batch_size, config.seed),
        array_batches(forced(data.validation), 256),
        config,
        extra_callbacks=[SampleLog(translate, shown, shown, data.validation.targets[:SAMPLES])],
    )
    log_new_params(
        {
            "model_parameters": model.training.count_params(),
            "source_vocabulary": source.vocabulary_size(),
            "target_vocabulary": target.vocabulary_size(),
            "train_pairs": len(data.train),
            "validation_pairs": len(data.validation),
            "test_pairs": len(data.test),
        }
    )
    predictions = translate(data.test.sources)
    references = [tokens_of(t) for t in data.test.targets]
    test_metrics = {
        "test_exact_match": float(np.mean([p == r for p, r in zip(predictions, references)])),
        "test_bleu": corpus_bleu([[r] for r in references], predictions),
    }
    mlflow.log_metrics(test_metrics)
    mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    export_path = export_text_generator(
        model,
        source,
        tf.TensorSpec((None,), tf.string, name="texts"),
        target.get_vocabulary(),
        decode,
        END,
        config.export_dir,
        name,
    )
    log_export(export_path, registered_model_name=config.registered_model_name)
    return TaskOutcome(export_path, test_metrics)
