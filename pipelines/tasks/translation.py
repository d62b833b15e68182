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
from typing import TYPE_CHECKING

from pipelines.tasks.base import Task, TaskDefaults
from pipelines.tasks.shared_options import (
    BidirectionalOption,
    DecoderOptions,
    HeldOutTestOption,
    RecurrentCellOptions,
    SequenceLengthOption,
    StackedLayersOption,
    VocabularyOptions,
    check_gated_decoder,
)

if TYPE_CHECKING:
    import keras

    from data import DataLocations
    from data.splits_types import DatasetSplits, ParallelSplit
    from pipelines.config import TrainConfig
    from pipelines.tracking import TaskOutcome


@dataclasses.dataclass(frozen=True)
class TranslationOptions(
    RecurrentCellOptions,
    StackedLayersOption,
    BidirectionalOption,
    VocabularyOptions,
    SequenceLengthOption,
    DecoderOptions,
    HeldOutTestOption,
):
    """The options of the translation task (the encoder stacks ``layers``, both ways if asked)."""


def _tfds_parallel(name: str, validation_fraction: float, locations: DataLocations | None):
    import numpy as np

    from data.choice import tfds_examples, tfds_three_splits
    from data.splits_types import ParallelSplit

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


def load_parallel_data(
    config: TrainConfig, locations: DataLocations | None = None
) -> DatasetSplits:
    """The train/validation/test pairs the config names, cut to ``max_examples``.

    Raises:
        ValueError: On a dataset of another task or a file without pairs.
        data.DatasetUnavailableError: If the data cannot be found.
    """
    from data.choice import choose_dataset, unsplit_or_tfds_splits
    from data.specs import TRANSLATION
    from data.translation import read_parallel_tsv

    choice = choose_dataset(
        config.dataset, TRANSLATION, "a tab-separated file of source<TAB>target lines"
    )
    return unsplit_or_tfds_splits(
        choice,
        locations,
        read_parallel_tsv,
        lambda: _tfds_parallel(choice.name, config.validation_fraction, locations),
        **config.split_options(),
    )


def adapt_vectorizers(config: TrainConfig, train: ParallelSplit):
    """``(source, target)`` vectorizers: vocabularies and lengths from the training pairs only."""
    import keras

    from pipelines.generation import longest, standardize, target_vectorizer

    source = keras.layers.TextVectorization(
        max_tokens=config.vocabulary_size,
        standardize=standardize,
        output_sequence_length=longest(train.sources, config.sequence_length),
        name="source_vectorizer",
    )
    source.adapt(train.sources.astype(str), batch_size=1024)
    target = target_vectorizer(train.targets, config.vocabulary_size, config.sequence_length)
    return source, target


@dataclasses.dataclass(frozen=True)
class VectorizedPairs:
    """Parallel text with its source and target vectorizers (adapted on training pairs)."""

    data: DatasetSplits
    source: keras.layers.TextVectorization
    target: keras.layers.TextVectorization


def load_data(config: TrainConfig, locations: DataLocations | None = None) -> VectorizedPairs:
    """The config's sentence pairs and vectorizers adapted on the training pairs only."""
    data = load_parallel_data(config, locations)
    return VectorizedPairs(data, *adapt_vectorizers(config, data.train))


def build_seq2seq(config: TrainConfig, vectorized: VectorizedPairs):
    """The encoder-decoder (`models.translation.Seq2Seq`), its training model compiled."""
    from models.translation import seq2seq
    from pipelines.fitting import adam

    model = seq2seq(
        vectorized.source.vocabulary_size(),
        vectorized.target.vocabulary_size(),
        embedding_dim=config.embedding_dim,
        recurrent=config.recurrent_spec(),
        attention=config.attention_or_none(),
        name=f"{vectorized.data.name}_{config.cell}_{config.attention}_seq2seq",
    )
    model.training.compile(optimizer=adam(config), loss="sparse_categorical_crossentropy")
    return model


def build_generator(config: TrainConfig, vectorized: VectorizedPairs):
    """``(model, decode)``: the encoder-decoder and its greedy or beam-search decoding."""
    from pipelines.generation import make_decoder

    model = build_seq2seq(config, vectorized)
    return model, make_decoder(model, vectorized.target, config.beam_width)


def build_model(config: TrainConfig, vectorized: VectorizedPairs) -> keras.Model:
    """The compiled teacher-forced training model of the encoder-decoder."""
    return build_seq2seq(config, vectorized).training


def train_translator(config: TrainConfig, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains, evaluates and exports an encoder-decoder inside the active MLflow run.

    Returns:
        A `TaskOutcome` with ``test_exact_match`` and ``test_bleu``.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    from data.pipeline import array_batches
    from pipelines.fitting import fit
    from pipelines.generation import (
        SAMPLES,
        SampleLog,
        finish_generator,
        generate,
        teacher_forcing,
        tokens_of,
    )
    from pipelines.metrics import corpus_bleu
    from pipelines.tracking import log_new_params

    vectorized = load_data(config, locations)
    data, source, target = vectorized.data, vectorized.source, vectorized.target

    def forced(split: ParallelSplit):
        decoder_inputs, labels, weights = teacher_forcing(target, split.targets)
        return (source(split.sources.astype(str)).numpy(), decoder_inputs), labels, weights

    keras.utils.set_random_seed(config.seed)
    model, decode = build_generator(config, vectorized)

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
    texts = tf.TensorSpec((None,), tf.string, name="texts")
    return finish_generator(model, source, texts, target, decode, config, history, test_metrics)


TASK = Task(
    name="translation",
    summary="sequence to sequence: our LSTM/GRU encoder-decoder with attention and beam search",
    options=TranslationOptions,
    defaults=TaskDefaults("number_words", epochs=10, batch_size=64, learning_rate=3e-3),
    load_data=load_data,
    build_model=build_model,
    train=train_translator,
    check=check_gated_decoder,
)
