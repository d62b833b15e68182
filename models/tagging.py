"""Many-to-many aligned tagging: one tag per token, padding masked.

Words are looked up lower-cased; an optional character CNN reads each word's
characters with their case, which carries much of what marks a named entity
(capitals, digits, ``@`` and ``#``). The output is a softmax per token or a
linear-chain CRF over the whole sentence (`CRFTagger`), which learns which
tag may follow which (``I-person`` after ``B-person``) and decodes the best
path with Viterbi.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from common.validation import check_positive_int, check_rate
from models.layers.crf import CRF
from models.recurrent import RecurrentSpec

OUTPUTS = ("softmax", "crf")
# Word shapes of tweets, first match wins (RE2 full matches); id 0 is padding, the
# last id every other token.
WORD_SHAPES = (
    ("url", r"(?i)(https?://|www\.).*"),
    ("mention", r"@\w.*"),
    ("hashtag", r"#\w.*"),
    ("number", r"[\d.,:/-]*\d[\d.,:/-]*"),
    ("all_caps", r"[^\p{Ll}]*\p{Lu}[^\p{Ll}]*\p{Lu}[^\p{Ll}]*"),
    ("title", r"\p{Lu}[^\p{Lu}]*"),
    ("inner_caps", r".*\p{Ll}.*\p{Lu}.*"),
    ("lower", r"\p{Ll}+"),
    ("with_digits", r".*\d.*"),
    ("punctuation", r"[^\pL\pN]+"),
)
SHAPE_IDS = len(WORD_SHAPES) + 2


def word_shape_ids(tokens):
    """``string [...]`` tokens -> ``int64 [...]`` ids of their `WORD_SHAPES` (1-based; "" -> 0)."""
    matches = [tf.strings.regex_full_match(tokens, pattern) for _, pattern in WORD_SHAPES]
    matches.append(tf.ones_like(matches[0]))
    first = tf.argmax(tf.cast(tf.stack(matches, axis=-1), tf.int32), axis=-1) + 1
    return tf.where(tokens == "", tf.constant(0, tf.int64), first)


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


@keras.saving.register_keras_serializable(package="convseq")
class CRFTagger(keras.Model):
    """A tagger whose output is a linear-chain `CRF` over a scorer's per-token tag scores.

    Calling it returns the Viterbi path one-hot encoded (``float32 [batch,
    time, tags]``, zeros on padding), so ``argmax`` gives the tags as for a
    softmax tagger. Training minimises the CRF's negative log-likelihood of
    the true tag sequences (mean over sentences, plus the scorer's weight
    penalties); padding is skipped through the mask the scores carry.
    ``fit``/``evaluate`` report ``loss`` and token ``accuracy`` of the
    Viterbi path (weighted by ``sample_weight`` when given).

    Args:
        scorer: A model from the inputs to unnormalised tag scores ``[batch,
            time, tags]`` carrying the padding mask.
        **kwargs: Base `keras.Model` arguments (``name``).

    Example:
        >>> tagger = CRFTagger(scorer)
        >>> tagger.compile(optimizer="adam")
        >>> tagger.fit(word_ids, tag_ids)
        >>> tag_ids = tagger.predict(word_ids).argmax(-1)
    """

    def __init__(self, scorer: keras.Model, **kwargs):
        super().__init__(**kwargs)
        shape = scorer.output_shape
        if len(shape) != 3 or shape[-1] is None:
            raise ValueError(
                "Invalid value for argument `scorer`. Expected a model whose output is tag "
                f"scores (batch, time, tags). Received output shape {shape}."
            )
        self.scorer = scorer
        self.crf = CRF(dtype="float32", name="crf")
        self.crf.build(shape)
        self.built = True  # both parts are: the model is usable (count_params) before a call
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    @property
    def output_shape(self):
        """``(batch, time, tags)``, as the scorer's."""
        return self.scorer.output_shape

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def call(self, inputs, training=None):
        return self.crf(self.scorer(inputs, training=training))

    def crf_loss(self, tag_ids, scores, sample_weight=None):
        """Mean negative log-likelihood of ``tag_ids`` over sentences, plus weight penalties."""
        mask = getattr(scores, "_keras_mask", None)  # set by Keras from Embedding(mask_zero)
        if mask is None and sample_weight is not None:
            mask = tf.cast(sample_weight, tf.float32) > 0
        nll = -self.crf.log_likelihood(scores, tag_ids, mask)
        penalties = [tf.cast(loss, tf.float32) for loss in self.scorer.losses]
        return tf.reduce_mean(nll) + tf.add_n([0.0, *penalties])

    def _update_metrics(self, loss, tag_ids, scores, sample_weight):
        path = tf.stop_gradient(self.crf(scores))
        if sample_weight is None:
            sample_weight = getattr(scores, "_keras_mask", None)
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(tag_ids, path, sample_weight=sample_weight)
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, data):
        x, tag_ids, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            scores = self.scorer(x, training=True)
            loss = self.crf_loss(tag_ids, scores, sample_weight)
            scaled = self.optimizer.scale_loss(loss)
        weights = self.trainable_weights
        self.optimizer.apply(tape.gradient(scaled, weights), weights)
        return self._update_metrics(loss, tag_ids, scores, sample_weight)

    def test_step(self, data):
        x, tag_ids, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        scores = self.scorer(x, training=False)
        loss = self.crf_loss(tag_ids, scores, sample_weight)
        return self._update_metrics(loss, tag_ids, scores, sample_weight)

    def get_config(self):
        return {
            **super().get_config(),
            "scorer": keras.saving.serialize_keras_object(self.scorer),
        }

    @classmethod
    def from_config(cls, config):
        scorer = keras.saving.deserialize_keras_object(config.pop("scorer"))
        return cls(scorer, **config)


def sequence_tagger(
    vocabulary_size: int,
    tags: int,
    *,
    embedding_dim: int = 64,
    char_vocabulary_size: int = 0,
    char_embedding_dim: int = 16,
    char_filters: int = 32,
    word_shapes: bool = False,
    embedding_dropout: float = 0.0,
    recurrent: RecurrentSpec | None = None,
    output: str = "softmax",
    name: str = "tagger",
) -> keras.Model:
    """A tagger: embeddings -> recurrent stack over all steps -> a tag per step.

    Inputs are ``word_ids`` ``int64 [batch, time]`` (0 = padding, masked all
    the way to the loss and metrics), when ``char_vocabulary_size`` > 0
    ``char_ids`` ``int64 [batch, time, word_length]`` (0 = padding), and with
    ``word_shapes`` ``shape_ids`` ``int64 [batch, time]`` (`word_shape_ids`).
    Each word's characters go through an embedding, a width-3 convolution
    and max-pooling over the word; the result and an 8-dimensional shape
    vector are concatenated to the word vector. Several inputs are passed as
    a list in that order or as a dict by name.

    Args:
        vocabulary_size: Size of the word id space.
        tags: Number of tags.
        embedding_dim: Size of the word vectors.
        char_vocabulary_size: Size of the character id space (0: no
            character features).
        char_embedding_dim: Size of the character vectors.
        char_filters: Features the character CNN extracts per word.
        word_shapes: Add the ``shape_ids`` input (`WORD_SHAPES`).
        embedding_dropout: Dropout on the word (and character) features
            before the recurrent stack.
        recurrent: The recurrent stack; default one bidirectional LSTM of 64
            units per direction.
        output: ``"softmax"``: a distribution per token, trained with
            cross-entropy; ``"crf"``: a `CRFTagger` (linear-chain CRF,
            Viterbi decoding).
        name: Model name.

    Returns:
        An uncompiled `keras.Model` whose output is ``[batch, time, tags]``
        (probabilities, or the one-hot Viterbi path of a `CRFTagger`),
        carrying the padding mask.

    Raises:
        ValueError: On a bad argument, naming it.
    """
    check_positive_int("vocabulary_size", vocabulary_size)
    check_positive_int("tags", tags)
    check_positive_int("embedding_dim", embedding_dim)
    check_rate("embedding_dropout", embedding_dropout)
    if output not in OUTPUTS:
        raise ValueError(
            f"Invalid value for argument `output`. Expected one of {', '.join(OUTPUTS)}. "
            f"Received output={output!r}."
        )
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
    if word_shapes:
        shape_ids = keras.Input(shape=(None,), dtype="int64", name="shape_ids")
        inputs.append(shape_ids)
        shapes = keras.layers.Embedding(SHAPE_IDS, 8, name="shape_embedding")(shape_ids)
        features = keras.layers.Concatenate(name="with_shapes")([features, shapes])
    if embedding_dropout:
        features = keras.layers.Dropout(embedding_dropout, name="embedding_dropout")(features)
    sequence = recurrent(features, return_sequences=True)
    model_inputs = inputs if len(inputs) > 1 else word_ids
    if output == "crf":
        scores = keras.layers.Dense(tags, dtype="float32", name="tag_scores")(sequence)
        return CRFTagger(keras.Model(model_inputs, scores, name=f"{name}_scores"), name=name)
    outputs = keras.layers.Dense(
        tags, activation="softmax", dtype="float32", name="tag_probabilities"
    )(sequence)
    return keras.Model(model_inputs, outputs, name=name)


class TaggingEncoder:
    """Raw whitespace-tokenized sentences -> padded word ids, character ids and shape ids.

    The same TensorFlow ops encode the training data and serve requests, so
    the exported model sees exactly what training saw. Word lookup is
    lower-cased; characters keep their case. Id 0 is padding, 1 unknown.

    Args:
        words: Known words (lower-cased), most frequent first.
        chars: Known characters (empty: no character ids).
        max_word_length: Characters kept per word.
        word_shapes: Also give each word's `WORD_SHAPES` id.
    """

    def __init__(self, words, chars=(), max_word_length: int = 20, word_shapes: bool = False):
        check_positive_int("max_word_length", max_word_length)
        self.max_word_length = max_word_length
        self.word_shapes = word_shapes
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
            ``int64 [batch, time, max_word_length]`` when characters are used
            and ``"shape_ids"`` ``int64 [batch, time]`` with ``word_shapes``.
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
        if self.word_shapes:
            encoded["shape_ids"] = word_shape_ids(tokens.to_tensor(default_value=""))
        return encoded

    @staticmethod
    def model_inputs(encoded):
        """``encoded`` features as `sequence_tagger`'s model takes them.

        Several inputs (characters, shapes) go as the dict, by name; word ids
        alone as the one tensor (a one-input model warns on a dict).
        """
        return encoded if len(encoded) > 1 else encoded["word_ids"]
