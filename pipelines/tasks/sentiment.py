"""The sentiment task of the train pipeline: raw texts -> our recurrent classifier -> SavedModel.

Data: Rotten Tomatoes snippets offline (default), any TFDS text dataset with
``text``/``label`` features (``tfds:imdb_reviews``), or a CSV/TSV file of
text and label columns. An unsplit set is split 80/10/10 (by the config's
fractions) with a fixed seed, so the test set does not move with ``seed``.
The vectorizer is adapted on the training split only. With ``conv_filters``
the recurrent layers read the features of our `Conv1D` ("same" padding, the
padding mask kept).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from common.validation import check_non_negative_int, check_positive_int
from pipelines.options import choice_parser, option_field, parse_positive_ints
from pipelines.tasks.base import Task, TaskDefaults
from pipelines.tasks.shared_options import (
    BidirectionalOption,
    ConvFrontOptions,
    HeldOutTestOption,
    RecurrentCellOptions,
    SequenceLengthOption,
    StackedLayersOption,
    VocabularyOptions,
    check_conv_front,
    model_kind,
)

if TYPE_CHECKING:
    import keras
    import numpy as np
    from mlflow.models import ModelSignature

    from data import DataLocations
    from data.splits_types import DatasetSplits, TextSplit
    from pipelines.config import TrainConfig
    from pipelines.tracking import TaskOutcome


@dataclasses.dataclass(frozen=True)
class SentimentOptions(
    RecurrentCellOptions,
    StackedLayersOption,
    BidirectionalOption,
    ConvFrontOptions,
    VocabularyOptions,
    SequenceLengthOption,
    HeldOutTestOption,
):
    """The options of the sentiment task."""

    encoder: str = option_field(
        "cnn",
        "cnn: a word CNN, one Conv1D per width of cnn_kernel_sizes max-pooled over the text "
        "(Kim 2014); rnn: the recurrent stack (cell, units, layers, bidirectional, conv front)",
        parse=choice_parser("encoder", ("cnn", "rnn")),
    )
    cnn_filters: int = option_field(
        100, "filters per width (encoder=cnn)", check=check_positive_int
    )
    cnn_kernel_sizes: tuple[int, ...] = option_field(
        (3, 4, 5),
        "filter widths in words, comma-separated (encoder=cnn)",
        parse=parse_positive_ints,
    )
    ngrams: int = option_field(
        3,
        "a bag of word 1..n-grams beside the encoder, its weights started at naive-Bayes "
        "log-count ratios of the training split (0: none)",
        check=check_non_negative_int,
    )
    ngram_buckets: int = option_field(
        2**18, "hash buckets of the n-grams", check=check_positive_int
    )
    text_column: str = option_field("text", "text column of a CSV/TSV file")
    label_column: str = option_field("label", "label column of a CSV/TSV file")


RECURRENT_OPTIONS = (
    "cell",
    "units",
    "layers",
    "bidirectional",
    "recurrent_dropout",
    "l1",
    "l2",
    "conv_filters",
    "conv_kernel_size",
)
CNN_OPTIONS = ("cnn_filters", "cnn_kernel_sizes")


def check_sentiment(config) -> None:
    """Refuses options the chosen encoder would not use (and a lone ``conv_kernel_size``).

    Raises:
        ValueError: Naming the options and the encoder that uses them.
    """
    check_conv_front(config)
    unused, needs = (RECURRENT_OPTIONS, "rnn") if config.encoder == "cnn" else (CNN_OPTIONS, "cnn")
    fields = SentimentOptions.__dataclass_fields__
    changed = [name for name in unused if getattr(config, name) != fields[name].default]
    if changed:
        settings = ", ".join(f"{name}={getattr(config, name)!r}" for name in changed)
        raise ValueError(
            f"Invalid options for encoder={config.encoder!r}: {settings} shape the "
            f"{needs} encoder, which this run does not use. Pass encoder={needs} to use them, "
            "or leave them at their defaults."
        )


def early_stopping_by_default(config) -> dict:
    """Early stopping after one epoch without a better ``val_loss`` (best weights kept).

    Measured on Rotten Tomatoes: the word CNN's validation loss is lowest after
    2-3 epochs and rises after; a patience set explicitly wins.
    """
    return {"early_stopping_patience": 1}


def model_name(config, dataset_name: str) -> str:
    """``<dataset>_<encoder>[_<n>grams]``, e.g. ``rotten_tomatoes_cnn_3grams``."""
    kind = "cnn" if config.encoder == "cnn" else model_kind(config)
    return f"{dataset_name}_{kind}{f'_{config.ngrams}grams' if config.ngrams else ''}"


def _split_unsplit(full: TextSplit, config: TrainConfig):
    from data.choice import split_three_ways

    return split_three_ways(full, config.validation_fraction, config.test_fraction)


def _tfds_text(name: str, config: TrainConfig, locations: DataLocations | None):
    import numpy as np

    from data.choice import draw_validation, tfds_examples
    from data.splits_types import TextSplit

    info, splits = tfds_examples(name, locations)
    features = info.features
    for column in (config.text_column, config.label_column):
        if column not in features:
            raise ValueError(
                f"TFDS dataset {name!r} has no feature {column!r}; its features are "
                f"{sorted(features.keys())}. Pass text_column=/label_column=."
            )
    label_feature = features[config.label_column]
    class_names = tuple(getattr(label_feature, "names", None) or ())

    def read(split: str) -> TextSplit:
        texts, labels = [], []
        for example in splits[split]:
            label = int(example[config.label_column])
            if label >= 0:  # e.g. imdb_reviews' unlabelled examples carry -1
                texts.append(example[config.text_column].decode("utf-8"))
                labels.append(label)
        return TextSplit(np.array(texts, dtype=object), np.array(labels, dtype=np.int64))

    missing = [split for split in ("train", "test") if split not in splits]
    if missing:
        raise ValueError(f"TFDS dataset {name!r} has no {missing} split; it has {list(splits)}.")
    train, test = read("train"), read("test")
    class_names = class_names or tuple(str(c) for c in sorted(set(train.labels.tolist())))
    return class_names, *draw_validation(train, config.validation_fraction), test


def load_text_data(config: TrainConfig, locations: DataLocations | None = None) -> DatasetSplits:
    """The train/validation/test texts the config names, cut to ``max_examples``.

    Raises:
        ValueError: On a dataset of another task, a missing column, empty
            texts only, or a label column with one class.
        data.DatasetUnavailableError: If the data cannot be found.
    """
    from data import load_dataset
    from data.choice import CATALOG, FILE, choose_dataset, cut_to
    from data.specs import FULL, TEXT_CLASSIFICATION
    from data.splits_types import DatasetSplits
    from data.text import read_text_table

    choice = choose_dataset(
        config.dataset, TEXT_CLASSIFICATION, "a CSV/TSV file with text and label columns"
    )
    if choice.kind == CATALOG:
        spec, splits = load_dataset(choice.name, locations)
        class_names, parts = spec.class_names, _split_unsplit(splits[FULL], config)
    elif choice.kind == FILE:
        full, class_names = read_text_table(choice.path, config.text_column, config.label_column)
        parts = _split_unsplit(full, config)
    else:
        class_names, *parts = _tfds_text(choice.name, config, locations)
    train, validation, test = parts
    train, test = cut_to(config.max_examples, train, test)
    if len(set(train.labels.tolist())) < 2:
        raise ValueError(
            f"The training split of {config.dataset!r} holds only one class; a classifier "
            "needs at least two (use more examples)."
        )
    return DatasetSplits(choice.label, train, validation, test, tuple(class_names))


def adapt_vectorizer(config: TrainConfig, data: DatasetSplits) -> keras.layers.TextVectorization:
    """A `TextVectorization` adapted on the training texts only."""
    from models.sentiment import text_vectorizer

    vectorizer = text_vectorizer(config.vocabulary_size, config.sequence_length)
    vectorizer.adapt(data.train.texts.astype(str), batch_size=1024)
    return vectorizer


def _vectorize(vectorizer, texts: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.concatenate(
        [vectorizer(texts[i : i + 4096].astype(str)).numpy() for i in range(0, len(texts), 4096)]
    )


def _class_probabilities(scores: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.concatenate([1.0 - scores, scores], axis=-1) if scores.shape[-1] == 1 else scores


def build_sentiment_model(config: TrainConfig, vocabulary_size: int, classes: int, name: str):
    """The compiled classifier over token ids for a config."""
    from models.sentiment import sentiment_classifier
    from pipelines.fitting import adam

    model = sentiment_classifier(
        vocabulary_size,
        classes,
        embedding_dim=config.embedding_dim,
        encoder=config.encoder,
        recurrent=config.recurrent_spec(),
        conv=config.conv_spec(),
        cnn_filters=config.cnn_filters,
        cnn_kernel_sizes=config.cnn_kernel_sizes,
        ngrams=config.ngrams,
        ngram_buckets=config.ngram_buckets,
        dropout=config.dropout,
        name=name,
    )
    model.compile(
        optimizer=adam(config),
        loss="binary_crossentropy" if classes == 2 else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def build_model(config: TrainConfig, text: VectorizedText) -> keras.Model:
    """The compiled classifier for a config and the `VectorizedText` of `load_data`.

    Its n-gram weights (if any) start from the training split's naive-Bayes
    log-count ratios.
    """
    from models.sentiment import start_ngrams_from_naive_bayes

    model = build_sentiment_model(
        config,
        text.vectorizer.vocabulary_size(),
        len(text.data.class_names),
        model_name(config, text.data.name),
    )
    start_ngrams_from_naive_bayes(model, text.ids["train"], text.data.train.labels)
    return model


def _end_to_end(vectorizer, model: keras.Model) -> tuple[keras.Model, ModelSignature]:
    import keras
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    texts = keras.Input(shape=(), dtype="string", name="texts")
    scores = model(vectorizer(texts))
    whole = keras.Model(texts, scores, name=model.name)
    signature = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(object), (-1,), "texts")]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, model.output_shape[-1]))]),
    )
    return whole, signature


@dataclasses.dataclass(frozen=True)
class VectorizedText:
    """Text data with its adapted vectorizer and every split as token ids."""

    data: DatasetSplits
    vectorizer: keras.layers.TextVectorization
    ids: dict[str, np.ndarray]

    def batches(self, part: str, batch_size: int, seed: int | None = None):
        """Shuffled (with ``seed``) or ordered batches of (ids, labels) of a split."""
        from data.pipeline import array_batches

        return array_batches((self.ids[part], getattr(self.data, part).labels), batch_size, seed)


def vectorized_text_data(
    config: TrainConfig, locations: DataLocations | None = None
) -> VectorizedText:
    """The config's texts, a vectorizer adapted on the training split, and every split's ids."""
    data = load_text_data(config, locations)
    vectorizer = adapt_vectorizer(config, data)
    ids = {part: _vectorize(vectorizer, split.texts) for part, split in data.parts().items()}
    return VectorizedText(data, vectorizer, ids)


def train_sentiment(config: TrainConfig, locations: DataLocations | None = None) -> TaskOutcome:
    """Trains, evaluates and exports a sentiment classifier inside the active MLflow run.

    Logs per-epoch metrics, ``test_loss``/``test_accuracy``, the training
    curves and confusion matrix, the SavedModel (raw strings in) and the
    end-to-end Keras model.

    Returns:
        A `TaskOutcome`.
    """
    import keras

    from pipelines.fitting import fit

    text = vectorized_text_data(config, locations)
    keras.utils.set_random_seed(config.seed)
    model = build_model(config, text)
    history = fit(
        model,
        text.batches("train", config.batch_size, config.seed),
        text.batches("validation", config.batch_size),
        config,
    )
    return finish_sentiment(model, text, config.export_dir, history, config.registered_model_name)


def finish_sentiment(
    model: keras.Model,
    text: VectorizedText,
    export_dir: str,
    history: dict[str, list[float]] | None = None,
    registered_model_name: str = "",
) -> TaskOutcome:
    """Evaluates, plots, exports and logs a trained text classifier in the active run."""
    import mlflow
    import numpy as np

    from pipelines.export import export_text_classifier
    from pipelines.plots import confusion_matrix, confusion_matrix_figure, training_curves_figure
    from pipelines.tracking import TaskOutcome, log_export, log_keras_model, log_new_params

    data, vectorizer = text.data, text.vectorizer
    log_new_params(
        {
            "model_parameters": model.count_params(),
            "vocabulary_words": vectorizer.vocabulary_size(),
            "train_examples": len(data.train),
            "validation_examples": len(data.validation),
            "test_examples": len(data.test),
        }
    )
    probabilities = _class_probabilities(model.predict(text.ids["test"], batch_size=512, verbose=0))
    labels = data.test.labels
    picked = probabilities[np.arange(len(labels)), labels]
    predictions = probabilities.argmax(axis=-1)
    test_metrics = {
        "test_loss": float(np.mean(-np.log(np.clip(picked, 1e-7, 1.0)))),
        "test_accuracy": float(np.mean(predictions == labels)),
    }
    mlflow.log_metrics(test_metrics)
    if history:
        mlflow.log_figure(training_curves_figure(history), "plots/training_curves.png")
    matrix = confusion_matrix(labels, predictions, len(data.class_names))
    mlflow.log_figure(
        confusion_matrix_figure(matrix, data.class_names), "plots/confusion_matrix.png"
    )
    export_path = export_text_classifier(
        vectorizer, model, export_dir, model.name, data.class_names
    )
    examples = data.test.texts[:2].astype(str).astype(object)
    log_export(export_path, examples, registered_model_name)
    log_keras_model(*_end_to_end(vectorizer, model), examples)
    return TaskOutcome(export_path, test_metrics)


TASK = Task(
    name="sentiment",
    summary="text classifier: word embeddings -> our word CNN (or LSTM/GRU/RNN stack) "
    "+ a bag of n-grams -> class",
    options=SentimentOptions,
    defaults=TaskDefaults("rotten_tomatoes", epochs=5, batch_size=64, learning_rate=2e-3),
    load_data=vectorized_text_data,
    build_model=build_model,
    train=train_sentiment,
    check=check_sentiment,
    preset=early_stopping_by_default,
)
