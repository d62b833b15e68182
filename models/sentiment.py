"""Many-to-one text classification: token ids -> our RNN or CNN [+ n-grams] -> class."""

from __future__ import annotations

import keras
import numpy as np

from common.validation import check_non_negative_int, check_positive_int, check_rate
from models.conv_front import ConvSpec, ZeroMaskedSteps
from models.layers import Conv1D
from models.ngrams import HashedNGrams, NGramLogits, hashed_ngrams, naive_bayes_log_ratios
from models.recurrent import RecurrentSpec

PADDING_ID = 0  # TextVectorization pads with 0 and maps unknown words to 1


def text_vectorizer(vocabulary_size: int, sequence_length: int) -> keras.layers.TextVectorization:
    """The layer turning raw strings into padded token ids; adapt it on training texts only.

    Lower-cases, strips punctuation, splits on whitespace; id 0 is padding, 1
    is an out-of-vocabulary word.

    Args:
        vocabulary_size: Most frequent words kept (padding and OOV included).
        sequence_length: Texts are cut or padded to this many tokens.

    Returns:
        An unadapted `keras.layers.TextVectorization`.
    """
    check_positive_int("vocabulary_size", vocabulary_size)
    check_positive_int("sequence_length", sequence_length)
    return keras.layers.TextVectorization(
        max_tokens=vocabulary_size,
        output_mode="int",
        output_sequence_length=sequence_length,
        name="text_vectorizer",
    )


ENCODERS = ("cnn", "rnn")
NGRAM_LAYER = "ngram_logits"


def sentiment_classifier(
    vocabulary_size: int,
    classes: int = 2,
    *,
    embedding_dim: int = 64,
    encoder: str = "rnn",
    recurrent: RecurrentSpec | None = None,
    conv: ConvSpec | None = None,
    cnn_filters: int = 100,
    cnn_kernel_sizes: tuple[int, ...] = (3, 4, 5),
    ngrams: int = 0,
    ngram_buckets: int = 2**18,
    dropout: float = 0.0,
    name: str = "sentiment",
) -> keras.Model:
    """A many-to-one text classifier over token ids: recurrent or convolutional, n-grams aside.

    Layout: ``int ids [batch, time] -> Embedding -> encoder -> dropout ->
    dense``, one sigmoid unit for two classes (the probability of class 1), a
    softmax over ``classes`` for more. Encoders:

    - ``"rnn"``: [conv front] -> recurrent stack (last state). The conv front
      pads ``"same"``; padding steps are zeroed before each convolution and
      masked in the recurrent stack.
    - ``"cnn"`` (Kim 2014): dropout 0.2 on the word vectors, then one of our
      `Conv1D` per width in ``cnn_kernel_sizes`` (``cnn_filters`` each,
      ReLU, ``"same"``), each max-pooled over the text's steps, concatenated.

    With ``ngrams`` > 0, a bag of the text's word 1..n-grams
    (`models.ngrams`) adds its logits to the encoder's before the output
    activation; `start_ngrams_from_naive_bayes` sets its starting weights.
    Padding appended to a text does not change the output of either encoder.

    Args:
        vocabulary_size: Size of the id space (the vectorizer's vocabulary).
        classes: Number of classes, at least 2.
        embedding_dim: Size of the word vectors.
        encoder: ``"rnn"`` or ``"cnn"``.
        recurrent: The recurrent stack (``"rnn"``); default one LSTM of 64 units.
        conv: `Conv1D` layers before the recurrent stack (``"rnn"``); default none.
        cnn_filters: Filters per width (``"cnn"``).
        cnn_kernel_sizes: Filter widths in words (``"cnn"``).
        ngrams: Longest n-gram of the bag-of-n-grams side input; 0: none.
        ngram_buckets: Hash buckets of the n-grams.
        dropout: Dropout before the output layer.
        name: Model name.

    Returns:
        An uncompiled `keras.Model`.

    Raises:
        ValueError: On a bad argument, naming it.
    """
    check_positive_int("vocabulary_size", vocabulary_size)
    check_positive_int("embedding_dim", embedding_dim)
    check_rate("dropout", dropout)
    check_non_negative_int("ngrams", ngrams)
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(
            "Invalid value for argument `classes`. Expected an integer >= 2. "
            f"Received classes={classes!r}."
        )
    if encoder not in ENCODERS:
        raise ValueError(
            f"Invalid value for argument `encoder`. Expected one of {ENCODERS}. "
            f"Received encoder={encoder!r}."
        )
    ids = keras.Input(shape=(None,), dtype="int64", name="token_ids")
    if encoder == "cnn":
        x = _kim_features(ids, vocabulary_size, embedding_dim, cnn_filters, cnn_kernel_sizes)
    else:
        x = _recurrent_features(ids, vocabulary_size, embedding_dim, recurrent, conv)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs, activation = (1, "sigmoid") if classes == 2 else (classes, "softmax")
    output_name = "probability" if classes == 2 else "probabilities"
    if not ngrams:
        scores = keras.layers.Dense(
            outputs, activation=activation, dtype="float32", name=output_name
        )(x)
        return keras.Model(ids, scores, name=name)
    bucket_ids = HashedNGrams(ngrams, ngram_buckets, name="hashed_ngrams")(ids)
    logits = keras.layers.Add(name="logits")(
        [
            keras.layers.Dense(outputs, dtype="float32", name="encoder_logits")(x),
            NGramLogits(ngram_buckets, outputs, dtype="float32", name=NGRAM_LAYER)(bucket_ids),
        ]
    )
    scores = keras.layers.Activation(activation, dtype="float32", name=output_name)(logits)
    return keras.Model(ids, scores, name=name)


def _recurrent_features(ids, vocabulary_size, embedding_dim, recurrent, conv):
    recurrent = recurrent or RecurrentSpec()
    conv = conv or ConvSpec()
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding")(
        ids
    )
    mask = None  # the embedding's own, carried by x
    if conv.enabled:  # convolutions drop masks: the stack gets it from the ids
        mask = keras.ops.not_equal(ids, PADDING_ID)
        x = conv(x, padding="same", mask=mask)
    return recurrent(x, mask=mask)


def _kim_features(ids, vocabulary_size, embedding_dim, filters, kernel_sizes):
    check_positive_int("cnn_filters", filters)
    if not kernel_sizes or not all(
        isinstance(k, int) and not isinstance(k, bool) and k > 0 for k in kernel_sizes
    ):
        raise ValueError(
            "Invalid value for argument `cnn_kernel_sizes`. Expected positive integers, "
            f"e.g. (3, 4, 5). Received cnn_kernel_sizes={kernel_sizes!r}."
        )
    mask = keras.ops.not_equal(ids, PADDING_ID)
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, name="embedding")(ids)
    x = keras.layers.Dropout(0.2, name="embedding_dropout")(x)
    x = ZeroMaskedSteps(name="zero_padding_steps")(x, mask=mask)
    pooled = []
    for width in kernel_sizes:
        features = Conv1D(
            filters, width, padding="same", activation="relu", name=f"conv1d_width{width}"
        )(x)
        # ReLU features are >= 0: zeroed padding steps never win the max over a text.
        features = ZeroMaskedSteps(name=f"zero_padding_steps_width{width}")(features, mask=mask)
        pooled.append(keras.layers.GlobalMaxPooling1D(name=f"max_over_time_width{width}")(features))
    x = pooled[0] if len(pooled) == 1 else keras.layers.Concatenate(name="widths")(pooled)
    return keras.layers.Dropout(0.5, name="features_dropout")(x)


def start_ngrams_from_naive_bayes(
    model: keras.Model, ids: np.ndarray, labels: np.ndarray, scale: float = 0.1
) -> None:
    """Starts the model's n-gram weights at ``scale`` times naive-Bayes log-count ratios.

    The ratios are counted on ``ids`` (the training texts' token ids) and
    their labels; a model without n-grams is left as it is.

    Args:
        model: A `sentiment_classifier`.
        ids: Token ids ``[texts, time]`` of the training split only.
        labels: Their integer labels.
        scale: Factor on the ratios (the measured default keeps the network's
            own logits in play from the first step).
    """
    try:
        layer = model.get_layer(NGRAM_LAYER)
    except ValueError:
        return
    hashing = model.get_layer("hashed_ngrams")
    classes = 2 if layer.outputs == 1 else layer.outputs
    ratios = naive_bayes_log_ratios(
        hashed_ngrams(ids, hashing.ngrams, hashing.buckets), labels, classes, hashing.buckets
    )
    layer.start_from(ratios, scale)
