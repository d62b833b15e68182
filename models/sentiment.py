"""Many-to-one text classification: token ids -> embedding -> [our Conv1D] -> our RNN -> classes."""

from __future__ import annotations

import keras

from common.validation import check_positive_int, check_rate
from models.conv_front import ConvSpec
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


def sentiment_classifier(
    vocabulary_size: int,
    classes: int = 2,
    *,
    embedding_dim: int = 64,
    recurrent: RecurrentSpec | None = None,
    conv: ConvSpec | None = None,
    dropout: float = 0.0,
    name: str = "sentiment",
) -> keras.Model:
    """A many-to-one recurrent classifier over token ids.

    Layout: ``int ids [batch, time] -> Embedding (id 0 masked) -> [conv
    front] -> recurrent stack (last state) -> dropout -> dense``: one sigmoid
    unit for two classes (the probability of class 1), a softmax over
    ``classes`` for more. The conv front pads ``"same"``; padding steps are
    zeroed before each convolution and masked in the recurrent stack, so
    padding appended to a text does not change its output.

    Args:
        vocabulary_size: Size of the id space (the vectorizer's vocabulary).
        classes: Number of classes, at least 2.
        embedding_dim: Size of the word vectors.
        recurrent: The recurrent stack; default one LSTM of 64 units.
        conv: `Conv1D` layers before the recurrent stack; default none.
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
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(
            "Invalid value for argument `classes`. Expected an integer >= 2. "
            f"Received classes={classes!r}."
        )
    recurrent = recurrent or RecurrentSpec()
    conv = conv or ConvSpec()
    ids = keras.Input(shape=(None,), dtype="int64", name="token_ids")
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding")(
        ids
    )
    mask = None  # the embedding's own, carried by x
    if conv.enabled:  # convolutions drop masks: the stack gets it from the ids
        mask = keras.ops.not_equal(ids, PADDING_ID)
        x = conv(x, padding="same", mask=mask)
    x = recurrent(x, mask=mask)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    if classes == 2:
        outputs = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="probability")(
            x
        )
    else:
        outputs = keras.layers.Dense(
            classes, activation="softmax", dtype="float32", name="probabilities"
        )(x)
    return keras.Model(ids, outputs, name=name)
