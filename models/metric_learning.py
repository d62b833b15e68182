"""Metric-learning losses: embeddings of one class close, of different classes apart.

Each loss takes integer class labels ``y_true`` ``[batch]`` and embeddings
``y_pred`` ``[batch, dimension]`` (L2-normalised by the model) and compares
every pair inside the batch, so a batch must hold several examples per class
(the triplet loss holds ``batch^3`` floats: batches of a few hundred).

- `SemiHardTripletLoss` (Schroff et al. 2015, FaceNet): for every
  anchor-positive pair, the closest negative that is still farther than the
  positive (semi-hard), or the farthest negative when none is; hinge on
  ``d(a, p) - d(a, n) + margin`` with Euclidean distances.
- `SupervisedContrastiveLoss` (Khosla et al. 2020): for every anchor, the
  mean over its positives of the log-probability of picking that positive
  among all the other examples, with similarities ``z_i . z_j / temperature``.
- `ClassAndCopyLoss`: one of those on the class part of a two-part embedding
  (`models.embedding.embedding_model` with ``copy_dimension``), plus the
  contrastive loss on its copy part with each image and its altered copy as
  the only positives (SimCLR's loss, Chen et al. 2020), so the vectors say
  both "of the same kind" and "this very item".
"""

from __future__ import annotations

import keras
import tensorflow as tf

from common.validation import check_positive, check_positive_int


def _pair_masks(labels):
    """``(same_class, different_class)`` bool ``[batch, batch]``; a sample is not its own pair."""
    labels = tf.reshape(tf.cast(labels, tf.int64), [-1])
    same = tf.equal(labels[:, tf.newaxis], labels[tf.newaxis, :])
    not_self = tf.logical_not(tf.eye(tf.shape(labels)[0], dtype=tf.bool))
    return tf.logical_and(same, not_self), tf.logical_not(same)


def pairwise_distances(embeddings):
    """Euclidean distances ``[batch, batch]`` between rows, with a gradient at 0."""
    embeddings = tf.cast(embeddings, tf.float32)
    squared = tf.reduce_sum(tf.square(embeddings), axis=1)
    distances = squared[:, tf.newaxis] - 2.0 * embeddings @ tf.transpose(embeddings)
    distances = tf.maximum(distances + squared[tf.newaxis, :], 0.0)
    zero = tf.equal(distances, 0.0)
    # sqrt has an infinite gradient at 0: take it of a small number there, then put 0 back
    return tf.where(zero, 0.0, tf.sqrt(tf.where(zero, 1e-16, distances)))


@keras.saving.register_keras_serializable(package="convseq")
class SemiHardTripletLoss(keras.losses.Loss):
    """The triplet loss with semi-hard negatives mined in the batch.

    Args:
        margin: How much farther than the positive a negative must be to cost nothing.
        name: Loss name.
        **kwargs: Base `keras.losses.Loss` arguments (``reduction``).

    Example:
        >>> model.compile(optimizer="adam", loss=SemiHardTripletLoss(margin=0.5))
        >>> model.fit(images, labels, batch_size=128)  # several images per class per batch
    """

    def __init__(self, margin: float = 0.5, name: str = "semi_hard_triplet_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.margin = check_positive("margin", margin)

    def call(self, y_true, y_pred):
        positive, negative = _pair_masks(y_true)
        distances = pairwise_distances(y_pred)
        # for each anchor a and positive p (rows a, p), every candidate negative n (last axis)
        to_positive = distances[:, :, tf.newaxis]  # d(a, p)
        to_negative = distances[:, tf.newaxis, :]  # d(a, n)
        batch = tf.shape(distances)[0]
        is_negative = tf.broadcast_to(negative[:, tf.newaxis, :], [batch, batch, batch])
        semi_hard = tf.logical_and(is_negative, to_negative > to_positive)
        large = tf.reduce_max(distances) + 1.0
        closest_semi_hard = tf.reduce_min(tf.where(semi_hard, to_negative, large), axis=2)
        farthest = tf.reduce_max(tf.where(negative, distances, -1.0), axis=1, keepdims=True)
        farthest = tf.broadcast_to(farthest, tf.shape(distances))
        has_semi_hard = tf.reduce_any(semi_hard, axis=2)
        chosen = tf.where(has_semi_hard, closest_semi_hard, farthest)
        hinge = tf.maximum(distances - chosen + self.margin, 0.0)
        # anchors with a positive and a negative count; the loss is their mean per pair
        has_negative = tf.reduce_any(negative, axis=1, keepdims=True)
        pairs = tf.cast(tf.logical_and(positive, has_negative), tf.float32)
        per_anchor = tf.reduce_sum(hinge * pairs, axis=1) / tf.maximum(
            tf.reduce_sum(pairs, axis=1), 1.0
        )
        weight = tf.cast(tf.reduce_any(pairs > 0, axis=1), tf.float32)
        return per_anchor * weight * _anchor_scale(weight)

    def get_config(self):
        return {**super().get_config(), "margin": self.margin}


@keras.saving.register_keras_serializable(package="convseq")
class SupervisedContrastiveLoss(keras.losses.Loss):
    """The supervised contrastive loss over every pair in the batch.

    Args:
        temperature: Similarities are divided by it; lower sharpens.
        name: Loss name.
        **kwargs: Base `keras.losses.Loss` arguments (``reduction``).

    Example:
        >>> model.compile(optimizer="adam", loss=SupervisedContrastiveLoss(0.1))
    """

    def __init__(
        self, temperature: float = 0.1, name: str = "supervised_contrastive_loss", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.temperature = check_positive("temperature", temperature)

    def call(self, y_true, y_pred):
        positive, _ = _pair_masks(y_true)
        embeddings = tf.cast(y_pred, tf.float32)
        logits = embeddings @ tf.transpose(embeddings) / self.temperature
        not_self = tf.logical_not(tf.eye(tf.shape(logits)[0], dtype=tf.bool))
        log_normaliser = tf.reduce_logsumexp(
            tf.where(not_self, logits, tf.float32.min), axis=1, keepdims=True
        )
        log_probability = logits - log_normaliser
        positives = tf.cast(positive, tf.float32)
        count = tf.reduce_sum(positives, axis=1)
        per_anchor = -tf.reduce_sum(log_probability * positives, axis=1) / tf.maximum(count, 1.0)
        weight = tf.cast(count > 0, tf.float32)
        return per_anchor * weight * _anchor_scale(weight)

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}


def _anchor_scale(weight):
    """Scales per-example losses so Keras's mean over the batch is the mean over counted anchors."""
    return tf.cast(tf.size(weight), tf.float32) / tf.maximum(tf.reduce_sum(weight), 1.0)


CLASS_LOSSES = ("triplet", "contrastive")


@keras.saving.register_keras_serializable(package="convseq")
class ClassAndCopyLoss(keras.losses.Loss):
    """A class loss on an embedding's class part plus a copy loss on its copy part.

    ``y_true`` is ``int [batch, 2]``: the class, then the copy group (an image
    and its altered copies share one; `data.near_duplicates.with_altered_copies`
    makes such batches). ``y_pred`` is the output of
    `models.embedding.embedding_model` with a copy head: its first
    ``class_dimension`` entries are the class part.

    Args:
        class_dimension: Length of the class part.
        class_loss: ``"triplet"`` (`SemiHardTripletLoss`) or ``"contrastive"``
            (`SupervisedContrastiveLoss`) on the classes.
        margin: The triplet loss's margin.
        copy_weight: Weight of the copy loss.
        temperature: Temperature of both contrastive losses.
        name: Loss name.
        **kwargs: Base `keras.losses.Loss` arguments (``reduction``).

    Example:
        >>> embedder = embedding_model(backbone, dimension=64, copy_dimension=64)
        >>> embedder.compile(optimizer="adam", loss=ClassAndCopyLoss(class_dimension=64))
    """

    def __init__(
        self,
        class_dimension: int,
        class_loss: str = "triplet",
        margin: float = 0.5,
        copy_weight: float = 1.0,
        temperature: float = 0.1,
        name: str = "class_and_copy_loss",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if class_loss not in CLASS_LOSSES:
            raise ValueError(
                f"Invalid value for argument `class_loss`. Expected one of "
                f"{', '.join(CLASS_LOSSES)}. Received class_loss={class_loss!r}."
            )
        self.class_dimension = check_positive_int("class_dimension", class_dimension)
        self.class_loss = class_loss
        self.margin = check_positive("margin", margin)
        self.copy_weight = check_positive("copy_weight", copy_weight)
        self.temperature = check_positive("temperature", temperature)
        self._classes = (
            SemiHardTripletLoss(margin)
            if class_loss == "triplet"
            else SupervisedContrastiveLoss(temperature)
        )
        self._copies = SupervisedContrastiveLoss(temperature)

    def call(self, y_true, y_pred):
        y_true = tf.reshape(tf.cast(y_true, tf.int64), [-1, 2])
        y_pred = tf.cast(y_pred, tf.float32)
        width = y_pred.shape[-1]
        if width is not None and width <= self.class_dimension:
            raise ValueError(
                f"Invalid value for argument `class_dimension`. The embeddings have {width} "
                f"entries, so a class part of {self.class_dimension} leaves no copy part. "
                f"Received class_dimension={self.class_dimension}."
            )
        parts = (y_pred[:, : self.class_dimension], y_pred[:, self.class_dimension :])
        kind, copy = (tf.math.l2_normalize(part, axis=-1) for part in parts)
        return self._classes.call(y_true[:, 0], kind) + self.copy_weight * self._copies.call(
            y_true[:, 1], copy
        )

    def get_config(self):
        return {
            **super().get_config(),
            "class_dimension": self.class_dimension,
            "class_loss": self.class_loss,
            "margin": self.margin,
            "copy_weight": self.copy_weight,
            "temperature": self.temperature,
        }
