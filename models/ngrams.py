"""A bag of word n-grams over token ids: hashed n-gram ids, their log-count ratios, their logits.

The linear n-gram model text classifiers are measured against (TF-IDF +
logistic regression, NBSVM) as a side input of a Keras model: the word
n-grams of a text are hashed into ``buckets`` ids inside the model (so the
SavedModel still takes token ids, or raw strings with the vectorizer in
front), each id has one weight per output, and the text's n-gram logits are
the sum of the weights of its n-grams. Starting those weights at scaled
naive-Bayes log-count ratios (Wang & Manning 2012, "Baselines and bigrams")
gives the network the n-gram model's strength from the first step.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from common.validation import check_positive_int

# The ids of an n-gram are folded into one integer below 2**31 (so no product
# overflows int64), then into a bucket; 0 is left for "no n-gram" (padding).
_MODULUS = 2147483647
_MULTIPLIER = 1000003


@keras.saving.register_keras_serializable(package="convseq")
class HashedNGrams(keras.layers.Layer):
    """Token ids ``[batch, time]`` -> the bucket ids of their 1..n-grams ``[batch, n-grams]``.

    An n-gram touching a padding id (0) gets bucket 0, which `NGramLogits`
    ignores, so padding appended to a text does not change its n-grams.
    `hashed_ngrams` computes the same ids with NumPy.

    Args:
        ngrams: Longest n-gram (1: words only).
        buckets: Number of buckets, including the unused bucket 0.
    """

    def __init__(self, ngrams: int = 3, buckets: int = 2**18, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("ngrams", ngrams)
        check_positive_int("buckets", buckets)
        if buckets < 2:
            raise ValueError(
                "Invalid value for argument `buckets`. Expected at least 2 (bucket 0 is "
                f"padding). Received buckets={buckets}."
            )
        self.ngrams = ngrams
        self.buckets = buckets
        self.built = True

    def call(self, ids):
        return _hash(ops, ops.cast(ids, "int64"), self.ngrams, self.buckets)

    def get_config(self):
        return {**super().get_config(), "ngrams": self.ngrams, "buckets": self.buckets}


def hashed_ngrams(ids: np.ndarray, ngrams: int, buckets: int) -> np.ndarray:
    """`HashedNGrams` in NumPy: ``[batch, time]`` int ids -> ``[batch, n-grams]`` bucket ids."""
    return _hash(np, np.asarray(ids, dtype=np.int64), ngrams, buckets)


def _hash(xp, ids, ngrams: int, buckets: int):
    """The n-gram bucket ids, with ``xp`` NumPy or `keras.ops` (the same integer arithmetic)."""
    as_int = (lambda b: ops.cast(b, "int64")) if xp is ops else (lambda b: b.astype(np.int64))
    columns = []
    for n in range(1, ngrams + 1):
        value = xp.zeros_like(ids[:, n - 1 :])
        real = xp.ones_like(value)
        for offset in range(n):  # the n-grams' tokens at this offset; empty if too short
            token = ids[:, offset : -(n - 1 - offset) or None]
            value = (value * _MULTIPLIER + token) % _MODULUS
            real = real * as_int(token > 0)
        columns.append(((value * 31 + n) % (buckets - 1) + 1) * real)
    return xp.concatenate(columns, axis=1)


def naive_bayes_log_ratios(
    bucket_ids: np.ndarray, labels: np.ndarray, classes: int, buckets: int, alpha: float = 1.0
) -> np.ndarray:
    """Log-count ratios of n-gram presence between each class and the rest.

    ``r[f, c] = log(p_c(f) / |p_c|) - log(q_c(f) / |q_c|)`` where ``p_c(f)`` is
    ``alpha`` plus the number of class-``c`` texts holding n-gram ``f`` and
    ``q_c`` the same over the other classes. With two classes one column:
    class 1 against class 0. Bucket 0 (padding) gets 0.

    Args:
        bucket_ids: `hashed_ngrams` of the training texts ``[texts, n-grams]``.
        labels: Their integer labels.
        classes: Number of classes.
        buckets: Number of buckets.
        alpha: Additive smoothing.

    Returns:
        ``float32 [buckets, 1 if classes == 2 else classes]``.
    """
    rows = np.repeat(np.arange(len(bucket_ids)), bucket_ids.shape[1])
    present = np.unique(rows * buckets + bucket_ids.reshape(-1))  # each n-gram once per text
    text, bucket = present // buckets, present % buckets
    counts = np.zeros((classes, buckets))
    np.add.at(counts, (np.asarray(labels)[text], bucket), 1.0)
    counts[:, 0] = 0.0
    targets = [1] if classes == 2 else range(classes)
    ratios = np.zeros((buckets, len(targets)), dtype=np.float32)
    for column, target in enumerate(targets):
        p = alpha + counts[target]
        q = alpha + counts.sum(axis=0) - counts[target]
        ratios[:, column] = np.log(p / p.sum()) - np.log(q / q.sum())
    ratios[0] = 0.0
    return ratios


@keras.saving.register_keras_serializable(package="convseq")
class NGramLogits(keras.layers.Layer):
    """Bucket ids ``[batch, n-grams]`` -> the sum of their weights ``[batch, outputs]``.

    Bucket 0 (padding) adds nothing. The weights start at zero, or at
    `naive_bayes_log_ratios` times a scale through `start_from`.

    Args:
        buckets: Number of buckets.
        outputs: Logits per text (1 for a sigmoid output, else the classes).
    """

    def __init__(self, buckets: int, outputs: int = 1, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("buckets", buckets)
        check_positive_int("outputs", outputs)
        self.buckets = buckets
        self.outputs = outputs

    def build(self, input_shape):
        self.weight_table = self.add_weight(
            name="weights", shape=(self.buckets, self.outputs), initializer="zeros"
        )

    def call(self, bucket_ids):
        real = ops.expand_dims(ops.cast(ops.greater(bucket_ids, 0), self.compute_dtype), -1)
        weights = ops.take(self.weight_table, bucket_ids, axis=0)
        return ops.sum(weights * real, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.outputs)

    def start_from(self, ratios: np.ndarray, scale: float) -> None:
        """Sets the weights to ``scale * ratios`` (e.g. `naive_bayes_log_ratios`)."""
        if ratios.shape != (self.buckets, self.outputs):
            raise ValueError(
                f"The ratios have shape {ratios.shape}; layer {self.name!r} holds "
                f"({self.buckets}, {self.outputs}) weights."
            )
        self.weight_table.assign(scale * ratios)

    def get_config(self):
        return {**super().get_config(), "buckets": self.buckets, "outputs": self.outputs}
