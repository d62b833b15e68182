"""Linear-chain conditional random field over per-step tag scores (Lafferty et al. 2001).

A tag path ``y`` of a sentence with per-step scores ``U`` (``[time, tags]``,
the "potentials" a network computes) scores

    ``s(y) = start[y_0] + sum_t U[t, y_t] + sum_{t>0} A[y_{t-1}, y_t] + end[y_last]``

with a learned transition matrix ``A`` and start/end scores. Its probability
is ``exp(s(y)) / Z`` where the partition ``Z`` sums over every path; the
forward algorithm computes ``log Z`` in ``O(time * tags^2)``, Viterbi the best
path in the same time. Both run as `tf.scan` loops over time, so they trace
into graphs and SavedModels. Padding (a mask, real steps first) is skipped:
a padded sentence scores exactly as the unpadded one.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def _as_mask(potentials, mask):
    """``bool [batch, time]``: the given mask, or every step real."""
    if mask is None:
        return tf.ones(tf.shape(potentials)[:2], tf.bool)
    return tf.cast(mask, tf.bool)


def _at_least_one_step(potentials, mask):
    """Pads ``time`` to 1 for a batch of empty sentences (masked), so step 0 exists."""
    missing = tf.maximum(1 - tf.shape(potentials)[1], 0)
    return (
        tf.pad(potentials, [[0, 0], [0, missing], [0, 0]]),
        tf.pad(mask, [[0, 0], [0, missing]], constant_values=False),
    )


@keras.saving.register_keras_serializable(package="convseq")
class CRF(keras.layers.Layer):
    """A linear-chain CRF: learned tag transitions over the previous layer's tag scores.

    Called on potentials ``float [batch, time, tags]`` (and the padding mask
    Keras propagates), it returns the Viterbi path one-hot encoded, ``float32
    [batch, time, tags]`` (zeros on padding), so ``argmax`` gives the tags and
    accuracy metrics work unchanged. Training maximises `log_likelihood`
    (e.g. ``loss = -mean(crf.log_likelihood(potentials, tags, mask))``);
    `viterbi` returns the ids and scores of the best paths.

    Computations run in float32 whatever the layer's inputs.

    Args:
        transitions_initializer: Initializer of the transition matrix and
            the start and end scores.
        **kwargs: Base `keras.layers.Layer` arguments (``name``, ``dtype``).

    Example:
        >>> crf = CRF()
        >>> one_hot = crf(potentials, mask=mask)              # [batch, time, tags]
        >>> loss = -crf.log_likelihood(potentials, tags, mask)  # [batch]
    """

    def __init__(self, transitions_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.transitions_initializer = keras.initializers.get(transitions_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                "Invalid input shape for layer `CRF`. Expected potentials of shape "
                f"(batch, time, tags) with a known number of tags. Received {tuple(input_shape)}."
            )
        tags = int(input_shape[-1])
        self.tags = tags
        self.transitions = self.add_weight(
            shape=(tags, tags), initializer=self.transitions_initializer, name="transitions"
        )
        self.start_transitions = self.add_weight(
            shape=(tags,), initializer=self.transitions_initializer, name="start_transitions"
        )
        self.end_transitions = self.add_weight(
            shape=(tags,), initializer=self.transitions_initializer, name="end_transitions"
        )

    def _build_or_check(self, potentials):
        """Builds on the first potentials seen; afterwards checks they have this CRF's tags."""
        if not self.built:
            self.build(tuple(potentials.shape))
        if potentials.shape[-1] is not None and potentials.shape[-1] != self.tags:
            raise ValueError(
                f"This CRF was built for {self.tags} tags; received potentials of shape "
                f"{tuple(potentials.shape)}."
            )

    def call(self, potentials, mask=None):
        tag_ids, _ = self.viterbi(potentials, mask)
        one_hot = tf.one_hot(tag_ids, self.tags, dtype=tf.float32)
        return one_hot * tf.cast(_as_mask(potentials, mask), tf.float32)[..., None]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def log_likelihood(self, potentials, tag_ids, mask=None):
        """``log p(tags | potentials)`` of each sentence: path score minus ``log Z``.

        Args:
            potentials: ``float [batch, time, tags]`` tag scores.
            tag_ids: ``int [batch, time]`` the true tags (any value on padding).
            mask: ``bool [batch, time]``, real steps first; ``None``: all real.

        Returns:
            ``float32 [batch]``; 0 for an empty sentence.
        """
        self._build_or_check(potentials)
        potentials = tf.cast(potentials, tf.float32)
        mask = _as_mask(potentials, mask)
        tag_ids = tf.cast(tag_ids, tf.int32)
        missing = tf.maximum(1 - tf.shape(tag_ids)[1], 0)
        tag_ids = tf.pad(tag_ids, [[0, 0], [0, missing]])
        potentials, mask = _at_least_one_step(potentials, mask)
        return self.path_score(potentials, tag_ids, mask) - self.log_partition(potentials, mask)

    def path_score(self, potentials, tag_ids, mask):
        """The unnormalised score ``s(y)`` of the given paths: ``float32 [batch]``."""
        real = tf.cast(mask, tf.float32)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        tag_ids = tf.where(mask, tag_ids, 0)
        unary = tf.reduce_sum(tf.gather(potentials, tag_ids, axis=2, batch_dims=2) * real, axis=1)
        pairs = tf.stack([tag_ids[:, :-1], tag_ids[:, 1:]], axis=-1)
        binary = tf.reduce_sum(tf.gather_nd(self.transitions, pairs) * real[:, 1:], axis=1)
        first = tf.gather(self.start_transitions, tag_ids[:, 0])
        last_ids = tf.gather(tag_ids, tf.maximum(lengths - 1, 0), axis=1, batch_dims=1)
        last = tf.gather(self.end_transitions, last_ids)
        return tf.where(lengths > 0, unary + binary + first + last, 0.0)

    def log_partition(self, potentials, mask):
        """``log Z`` by the forward algorithm: ``float32 [batch]`` (0 for empty sentences)."""
        potentials, mask = _at_least_one_step(tf.cast(potentials, tf.float32), mask)
        steps = tf.transpose(potentials, [1, 0, 2])
        real = tf.transpose(mask)
        transitions = tf.convert_to_tensor(self.transitions)

        def forward(alpha, step):
            scores, is_real = step
            moved = tf.reduce_logsumexp(alpha[:, :, None] + transitions[None], axis=1) + scores
            return tf.where(is_real[:, None], moved, alpha)

        alpha0 = self.start_transitions[None] + steps[0]
        alpha = tf.scan(forward, (steps[1:], real[1:]), initializer=alpha0)
        final = tf.concat([alpha0[None], alpha], axis=0)[-1]
        log_z = tf.reduce_logsumexp(final + self.end_transitions[None], axis=1)
        return tf.where(real[0], log_z, 0.0)

    def viterbi(self, potentials, mask=None):
        """The best path of each sentence and its score.

        Args:
            potentials: ``float [batch, time, tags]``.
            mask: ``bool [batch, time]``, real steps first; ``None``: all real.

        Returns:
            ``(tag_ids, scores)``: ``int32 [batch, time]`` (0 on padding) and
            ``float32 [batch]`` (0 for an empty sentence).
        """
        self._build_or_check(potentials)
        time = tf.shape(potentials)[1]
        mask = _as_mask(potentials, mask)
        potentials, padded_mask = _at_least_one_step(tf.cast(potentials, tf.float32), mask)
        steps = tf.transpose(potentials, [1, 0, 2])
        real = tf.transpose(padded_mask)
        transitions = tf.convert_to_tensor(self.transitions)
        stay = tf.range(self.tags, dtype=tf.int32)

        def forward(carry, step):
            delta, _ = carry
            scores, is_real = step
            candidates = delta[:, :, None] + transitions[None]
            best = tf.reduce_max(candidates, axis=1) + scores
            # a padded step keeps every path where it is: back-pointers to itself
            pointers = tf.where(
                is_real[:, None], tf.argmax(candidates, axis=1, output_type=tf.int32), stay
            )
            return tf.where(is_real[:, None], best, delta), pointers

        delta0 = self.start_transitions[None] + steps[0]
        first_pointers = tf.zeros_like(tf.cast(delta0, tf.int32))
        deltas, pointers = tf.scan(
            forward, (steps[1:], real[1:]), initializer=(delta0, first_pointers)
        )
        final = tf.concat([delta0[None], deltas], axis=0)[-1] + self.end_transitions[None]
        last = tf.argmax(final, axis=1, output_type=tf.int32)

        def backward(tag, step_pointers):
            return tf.gather(step_pointers, tag, axis=1, batch_dims=1)

        earlier = tf.scan(backward, pointers, initializer=last, reverse=True)
        tag_ids = tf.transpose(tf.concat([earlier, last[None]], axis=0))[:, :time]
        tag_ids = tf.where(mask, tag_ids, 0)
        scores = tf.where(real[0], tf.reduce_max(final, axis=1), 0.0)
        return tag_ids, scores

    def get_config(self):
        return {
            **super().get_config(),
            "transitions_initializer": keras.initializers.serialize(self.transitions_initializer),
        }
