"""Many-to-many aligned tagging: one tag per token, padding masked.

Words are looked up lower-cased; an optional character CNN reads each word's
characters with their case, which carries much of what marks a named entity
(capitals, digits, ``@`` and ``#``).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from common.validation import check_positive_int
from models.recurrent import RecurrentSpec


@keras.saving.register_keras_serializable(package="convseq")
class CharacterCNN(keras.layers.Layer):
    """One feature vector per word from its characters: embedding -> conv -> max over chars.

    Input ``int [batch, time, chars]`` (0 = padding), output ``float [batch,
    time, filters]``. Words are folded into the batch for the convolution
    with dynamic shapes, so any number of words per sentence works in traced
    (serving) functions too.

    Args:
        char_vocabulary_size: Size of the character id space.
        char_embedding_dim: Size of the character vectors.
        filters: Features per word.
        kernel_size: Characters each filter reads.
    """

    def __init__(
        self, char_vocabulary_size, char_embedding_dim=16, filters=32, kernel_size=3, **kwargs
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("char_vocabulary_size", char_vocabulary_size),
            ("char_embedding_dim", char_embedding_dim),
            ("filters", filters),
            ("kernel_size", kernel_size),
        ):
            check_positive_int(name, value)
        self.char_vocabulary_size = char_vocabulary_size
        self.char_embedding_dim = char_embedding_dim
        self.filters = filters
        self.kernel_size = kernel_size
        self.embedding = keras.layers.Embedding(char_vocabulary_size, char_embedding_dim)
        self.conv = keras.layers.Conv1D(filters, kernel_size, padding="same", activation="relu")

    def build(self, input_shape):
        chars = input_shape[-1]
        self.embedding.build((None, chars))
        self.conv.build((None, chars, self.char_embedding_dim))

    def call(self, char_ids):
        shape = keras.ops.shape(char_ids)
        words = keras.ops.reshape(char_ids, (-1, shape[-1]))
        features = keras.ops.max(self.conv(self.embedding(words)), axis=1)
        return keras.ops.reshape(features, (shape[0], shape[1], self.filters))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "char_vocabulary_size": self.char_vocabulary_size,
            "char_embedding_dim": self.char_embedding_dim,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
        }


def sequence_tagger(
    vocabulary_size: int,
    tags: int,
    *,
    embedding_dim: int = 64,
    char_vocabulary_size: int = 0,
    char_embedding_dim: int = 16,
    char_filters: int = 32,
    recurrent: RecurrentSpec | None = None,
    name: str = "tagger",
) -> keras.Model:
    """A tagger: embeddings -> recurrent stack over all steps -> softmax over tags per step.

    Inputs are ``word_ids`` ``int64 [batch, time]`` (0 = padding, masked all
    the way to the loss and metrics) and, when ``char_vocabulary_size`` > 0,
    ``char_ids`` ``int64 [batch, time, word_length]`` (0 = padding). Each
    word's characters go through an embedding, a width-3 convolution and
    max-pooling over the word; the result is concatenated to the word vector.

    Args:
        vocabulary_size: Size of the word id space.
        tags: Number of tags.
        embedding_dim: Size of the word vectors.
        char_vocabulary_size: Size of the character id space (0: no
            character features).
        char_embedding_dim: Size of the character vectors.
        char_filters: Features the character CNN extracts per word.
        recurrent: The recurrent stack; default one bidirectional LSTM of 64
            units per direction.
        name: Model name.

    Returns:
        An uncompiled `keras.Model` whose output is ``[batch, time, tags]``
        probabilities, carrying the padding mask.

    Raises:
        ValueError: On a bad argument, naming it.
    """
    check_positive_int("vocabulary_size", vocabulary_size)
    check_positive_int("tags", tags)
    check_positive_int("embedding_dim", embedding_dim)
    if isinstance(char_vocabulary_size, bool) or char_vocabulary_size < 0:
        raise ValueError(
            "Invalid value for argument `char_vocabulary_size`. Expected 0 (no character "
            f"features) or a positive integer. Received char_vocabulary_size="
            f"{char_vocabulary_size!r}."
        )
    recurrent = recurrent or RecurrentSpec(bidirectional=True)
    word_ids = keras.Input(shape=(None,), dtype="int64", name="word_ids")
    inputs = [word_ids]
    features = keras.layers.Embedding(
        vocabulary_size, embedding_dim, mask_zero=True, name="word_embedding"
    )(word_ids)
    if char_vocabulary_size:
        check_positive_int("char_embedding_dim", char_embedding_dim)
        check_positive_int("char_filters", char_filters)
        char_ids = keras.Input(shape=(None, None), dtype="int64", name="char_ids")
        inputs.append(char_ids)
        chars = CharacterCNN(
            char_vocabulary_size, char_embedding_dim, char_filters, name="char_cnn"
        )(char_ids)
        features = keras.layers.Concatenate(name="word_and_chars")([features, chars])
    sequence = recurrent(features, return_sequences=True)
    outputs = keras.layers.Dense(
        tags, activation="softmax", dtype="float32", name="tag_probabilities"
    )(sequence)
    return keras.Model(inputs if len(inputs) > 1 else word_ids, outputs, name=name)


class TaggingEncoder:
    """Raw whitespace-tokenized sentences -> padded word ids and character ids.

    The same TensorFlow ops encode the training data and serve requests, so
    the exported model sees exactly what training saw. Word lookup is
    lower-cased; characters keep their case. Id 0 is padding, 1 unknown.

    Args:
        words: Known words (lower-cased), most frequent first.
        chars: Known characters (empty: no character ids).
        max_word_length: Characters kept per word.
    """

    def __init__(self, words, chars=(), max_word_length: int = 20):
        check_positive_int("max_word_length", max_word_length)
        self.max_word_length = max_word_length
        self.word_lookup = keras.layers.StringLookup(
            vocabulary=list(words), mask_token="", num_oov_indices=1, name="word_lookup"
        )
        self.char_lookup = (
            keras.layers.StringLookup(
                vocabulary=list(chars), mask_token="", num_oov_indices=1, name="char_lookup"
            )
            if chars
            else None
        )

    @property
    def vocabulary_size(self) -> int:
        """Size of the word id space (padding and unknown included)."""
        return self.word_lookup.vocabulary_size()

    @property
    def char_vocabulary_size(self) -> int:
        """Size of the character id space (0 without characters)."""
        return self.char_lookup.vocabulary_size() if self.char_lookup else 0

    def layers(self) -> list[keras.layers.Layer]:
        """The lookup layers, for tracking in an export."""
        return [layer for layer in (self.word_lookup, self.char_lookup) if layer is not None]

    def tokens(self, sentences):
        """``string [batch]`` -> ragged ``string [batch, (tokens)]``, split on whitespace."""
        return tf.strings.split(sentences)

    def __call__(self, sentences) -> dict:
        """Encodes ``string [batch]`` sentences, padded to the longest in the batch.

        Returns:
            ``{"word_ids": int64 [batch, time]}`` plus ``"char_ids"``
            ``int64 [batch, time, max_word_length]`` when characters are used.
        """
        tokens = self.tokens(sentences)
        words = tf.strings.lower(tokens).to_tensor(default_value="")
        encoded = {"word_ids": tf.cast(self.word_lookup(words), tf.int64)}
        if self.char_lookup is not None:
            chars = tf.strings.unicode_split(tokens, "UTF-8")
            # explicit [batch, time, chars] shape: the same padding as the words,
            # in eager and traced (serving) execution alike
            shape = tf.concat([tf.shape(words, out_type=tf.int64), [self.max_word_length]], 0)
            chars = chars.to_tensor(default_value="", shape=shape)
            encoded["char_ids"] = tf.cast(self.char_lookup(chars), tf.int64)
        return encoded
