"""The tagging task of the train pipeline: CoNLL sentences -> bidirectional tagger -> SavedModel.

Data: WNUT-16 tweets offline (default), a TFDS NER dataset with ``tokens``
and ``ner`` features (``tfds:conll2003``), or a CoNLL-style file. Unsplit
data is split with a fixed seed. Vocabularies (words seen twice, so the
unknown-word vector is trained too; characters) and tags come from the
training split only. The output is a linear-chain CRF (default) or a
softmax per token (``output``); either way the weights kept are those of the
epoch with the best validation entity F1. Reported: entity
precision/recall/F1 (seqeval's) and token accuracy, next to a
most-frequent-tag-per-word baseline.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import TYPE_CHECKING

from common.validation import check_rate
from pipelines.options import choice_parser, option_field
from pipelines.tasks.base import Task, TaskDefaults
from pipelines.tasks.shared_options import (
    HeldOutTestOption,
    RecurrentCellOptions,
    StackedLayersOption,
    VocabularyOptions,
)

if TYPE_CHECKING:
    import keras

    from data import DataLocations
    from data.splits_types import DatasetSplits, TaggedSplit
    from models.tagging import TaggingEncoder
    from pipelines.config import TrainConfig
    from pipelines.tracking import TaskOutcome

MIN_WORD_COUNT = 2
OUTPUTS = ("crf", "softmax")  # models.tagging.OUTPUTS, without importing Keras for --help
MAX_WORD_LENGTH = 20
TFDS_TOKENS, TFDS_TAGS = "tokens", "ner"


@dataclasses.dataclass(frozen=True)
class TaggingOptions(
    RecurrentCellOptions, StackedLayersOption, VocabularyOptions, HeldOutTestOption
):
    """The options of the tagging task (its recurrent layers are always bidirectional)."""

    char_features: bool = option_field(True, "add a character CNN per word: true or false")
    word_shapes: bool = option_field(
        True,
        "add each word's shape (url, mention, hashtag, number, capitals, ...): true or false",
    )
    embedding_dropout: float = option_field(
        0.5, "dropout on the word (and character, shape) features", check=check_rate
    )
    output: str = option_field(
        "crf",
        "tag decoding: crf (linear-chain CRF, Viterbi path, in the export too) or softmax "
        "(each word's tag on its own)",
        parse=choice_parser("output", OUTPUTS),
    )


def _tfds_tagged(name: str, validation_fraction: float, locations: DataLocations | None):
    from data.choice import tfds_examples, tfds_three_splits
    from data.splits_types import TaggedSplit

    info, splits = tfds_examples(name, locations)
    features = info.features
    for key in (TFDS_TOKENS, TFDS_TAGS):
        if key not in features:
            raise ValueError(
                f"TFDS dataset {name!r} has no {key!r} feature (features: "
                f"{sorted(features.keys())}); tagging reads '{TFDS_TOKENS}' and '{TFDS_TAGS}'."
            )
    tag_names = features[TFDS_TAGS].feature.names

    def read(split: str) -> TaggedSplit:
        tokens, tags = [], []
        for example in splits[split]:
            words = tuple(token.decode("utf-8") for token in example[TFDS_TOKENS])
            labels = tuple(tag_names[int(i)] for i in example[TFDS_TAGS])
            if words and len(words) == len(labels):
                tokens.append(words)
                tags.append(labels)
        return TaggedSplit(tuple(tokens), tuple(tags))

    return tfds_three_splits(name, splits, read, validation_fraction)


def load_tagged_data(config: TrainConfig, locations: DataLocations | None = None) -> DatasetSplits:
    """The train/validation/test sentences the config names, cut to ``max_examples``.

    Raises:
        ValueError: On a dataset of another task or a file without sentences.
        data.DatasetUnavailableError: If the data cannot be found.
    """
    from data.choice import choose_dataset, unsplit_or_tfds_splits
    from data.conll import read_conll
    from data.specs import SEQUENCE_TAGGING

    choice = choose_dataset(
        config.dataset, SEQUENCE_TAGGING, "a CoNLL file (token and tag per line)"
    )
    return unsplit_or_tfds_splits(
        choice,
        locations,
        read_conll,
        lambda: _tfds_tagged(choice.name, config.validation_fraction, locations),
        **config.split_options(),
    )


def build_encoder(config: TrainConfig, train: TaggedSplit) -> TaggingEncoder:
    """Word (seen at least twice) and character vocabularies of the training split."""
    from models.tagging import TaggingEncoder

    words = collections.Counter(token.lower() for sentence in train.tokens for token in sentence)
    kept = [w for w, n in words.most_common(config.vocabulary_size - 2) if n >= MIN_WORD_COUNT]
    chars: list[str] = []
    if config.char_features:
        counts = collections.Counter(c for sentence in train.tokens for t in sentence for c in t)
        chars = [c for c, n in counts.most_common() if n >= MIN_WORD_COUNT]
    return TaggingEncoder(kept, chars, MAX_WORD_LENGTH, word_shapes=config.word_shapes)


def tag_vocabulary(train: TaggedSplit) -> tuple[str, ...]:
    """The training split's tags, ``O`` first, then sorted."""
    tags = {tag for sentence in train.tags for tag in sentence}
    return tuple(sorted(tags, key=lambda tag: (tag != "O", tag)))


def _encode(encoder: TaggingEncoder, split: TaggedSplit, tag_index: dict[str, int]):
    import numpy as np
    import tensorflow as tf

    encoded = encoder(tf.constant([" ".join(sentence) for sentence in split.tokens]))
    features = {name: tensor.numpy() for name, tensor in encoded.items()}
    length = features["word_ids"].shape[1]
    labels = np.zeros((len(split), length), np.int64)
    weights = np.zeros((len(split), length), np.float32)
    for row, sentence_tags in enumerate(split.tags):
        # tags unseen in training count as wrong answers the model cannot give: "O"
        labels[row, : len(sentence_tags)] = [tag_index.get(tag, 0) for tag in sentence_tags]
        weights[row, : len(sentence_tags)] = 1.0
    return features, labels, weights


def _predict_tags(model, features, split: TaggedSplit, tag_names) -> list[list[str]]:
    from models.tagging import TaggingEncoder

    inputs = TaggingEncoder.model_inputs(features)
    probabilities = model.predict(inputs, batch_size=256, verbose=0)
    ids = probabilities.argmax(axis=-1)
    return [
        [tag_names[i] for i in ids[row, : len(sentence)]]
        for row, sentence in enumerate(split.tokens)
    ]


@dataclasses.dataclass(frozen=True)
class EncodedTags:
    """Tagging data with its encoder, its tags and every split encoded.

    Attributes:
        data: The sentences and tags.
        encoder: Word and character vocabularies of the training split.
        tags: Tag names, ``O`` first.
        encoded: ``{split: (features, labels, weights)}``.
    """

    data: DatasetSplits
    encoder: TaggingEncoder
    tags: tuple[str, ...]
    encoded: dict


def encoded_tagged_data(config: TrainConfig, locations: DataLocations | None = None) -> EncodedTags:
    """The config's sentences, vocabularies from the training split, and every split encoded."""
    data = load_tagged_data(config, locations)
    encoder = build_encoder(config, data.train)
    tag_names = tag_vocabulary(data.train)
    tag_index = {tag: i for i, tag in enumerate(tag_names)}
    encoded = {part: _encode(encoder, split, tag_index) for part, split in data.parts().items()}
    return EncodedTags(data, encoder, tag_names, encoded)


def build_model(config: TrainConfig, tagged: EncodedTags) -> keras.Model:
    """The compiled bidirectional tagger; loss and accuracy weigh real tokens only.

    A softmax tagger trains on cross-entropy; a CRF tagger (`models.tagging.CRFTagger`)
    on the CRF's negative log-likelihood of each sentence.
    """
    from models.tagging import sequence_tagger
    from pipelines.fitting import adam

    model = sequence_tagger(
        tagged.encoder.vocabulary_size,
        len(tagged.tags),
        embedding_dim=config.embedding_dim,
        char_vocabulary_size=tagged.encoder.char_vocabulary_size,
        word_shapes=config.word_shapes,
        embedding_dropout=config.embedding_dropout,
        recurrent=config.recurrent_spec(bidirectional=True),
        output=config.output,
        name=f"{tagged.data.name}_bi{config.cell}_{config.output}_tagger",
    )
    if config.output == "crf":
        model.compile(optimizer=adam(config))
    else:
        model.compile(
            optimizer=adam(config),
            loss="sparse_categorical_crossentropy",
            weighted_metrics=["accuracy"],
        )
    return model


def _validation_f1(model, tagged: EncodedTags):
    """``epoch -> {"val_entity_f1": ...}``: the validation entity F1 of the model now."""
    from baselines.tagging import entity_scores

    features = tagged.encoded["validation"][0]
    validation = tagged.data.validation

    def score(epoch: int) -> dict[str, float]:
        predicted = _predict_tags(model, features, validation, tagged.tags)
        return {"val_entity_f1": entity_scores(validation.tags, predicted)["f1"]}

    return score


def train_tagger(config: TrainConfig, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains, evaluates and exports a tagger inside the active MLflow run.

    The loss and the accuracy metric weigh only real tokens (padding has
    weight 0). After every epoch the validation entity F1 is scored and
    logged (``val_entity_f1``); the epoch with the best one gives the weights
    evaluated and exported. Logs per-epoch metrics, test entity
    F1/precision/recall (seqeval) and token accuracy for the model and the
    most-frequent-tag baseline, the training curves and the SavedModel (raw
    sentences in, tags out; a CRF tagger decodes with Viterbi inside).

    Returns:
        A `TaskOutcome`.
    """
    import keras
    import mlflow

    from baselines.tagging import MostFrequentTagger, entity_scores
    from data.pipeline import array_batches
    from pipelines.best_epoch import BestEpoch
    from pipelines.export import export_tagger
    from pipelines.fitting import fit
    from pipelines.metrics import token_accuracy
    from pipelines.plots import training_curves_figure
    from pipelines.tracking import TaskOutcome, log_export, log_new_params

    tagged = encoded_tagged_data(config, locations)
    data, encoder, tag_names, encoded = tagged.data, tagged.encoder, tagged.tags, tagged.encoded
    keras.utils.set_random_seed(config.seed)
    model = build_model(config, tagged)
    name = model.name
    train_features, labels, weights = encoded["train"]
    validation_features, *validation_targets = encoded["validation"]
    train_inputs = encoder.model_inputs(train_features)
    validation_inputs = encoder.model_inputs(validation_features)
    best_f1 = BestEpoch(_validation_f1(model, tagged), "val_entity_f1", "max")
    history = fit(
        model,
        array_batches((train_inputs, labels, weights), config.batch_size, config.seed),
        array_batches((validation_inputs, *validation_targets), 256),
        config,
        extra_callbacks=[best_f1],
    )
    log_new_params(
        {
            "model_parameters": model.count_params(),
            "tags": len(tag_names),
            "vocabulary_words": encoder.vocabulary_size,
            "vocabulary_chars": encoder.char_vocabulary_size,
            "train_sentences": len(data.train),
            "validation_sentences": len(data.validation),
            "test_sentences": len(data.test),
            "best_epoch": best_f1.best_epoch,
        }
    )
    predicted = _predict_tags(model, encoded["test"][0], data.test, tag_names)
    baseline = MostFrequentTagger(data.train.tokens, data.train.tags).predict(data.test.tokens)
    test_metrics = {
        f"test_entity_{key}": value
        for key, value in entity_scores(data.test.tags, predicted).items()
    }
    test_metrics["test_token_accuracy"] = token_accuracy(data.test.tags, predicted)
    test_metrics.update(
        {
            f"baseline_entity_{key}": value
            for key, value in entity_scores(data.test.tags, baseline).items()
        }
    )
    test_metrics["baseline_token_accuracy"] = token_accuracy(data.test.tags, baseline)
    mlflow.log_metrics(test_metrics)
    mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    export_path = export_tagger(encoder, model, config.export_dir, name, tag_names)
    log_export(export_path, registered_model_name=config.registered_model_name)
    return TaskOutcome(export_path, test_metrics)


TASK = Task(
    name="tagging",
    summary="named-entity tagger: words (+ character CNN) -> bidirectional RNN -> CRF or softmax",
    options=TaggingOptions,
    defaults=TaskDefaults("wnut16", epochs=25, batch_size=32, learning_rate=6e-3),
    load_data=encoded_tagged_data,
    build_model=build_model,
    train=train_tagger,
)
