"""Gradient diagnostics for recurrent models: how far back does the loss reach?"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def timestep_gradient_norms(model: keras.Model, inputs, targets, loss="mse") -> np.ndarray:
    """The norm of ∂loss/∂x_t for every timestep t of a batch of sequences.

    Vanishing gradients show as norms that fall off, often exponentially,
    for early timesteps; exploding gradients as norms that grow.

    Args:
        model: Maps float inputs ``[batch, time, features]`` to predictions.
        inputs: Float array ``[batch, time, features]``.
        targets: Targets for ``loss``.
        loss: A Keras loss name or callable ``(y_true, y_pred) -> loss``.

    Returns:
        A float64 array of shape ``[time]``: the Frobenius norm over batch and
        features of the gradient at each timestep.

    Raises:
        ValueError: If ``inputs`` is not rank 3.

    Example:
        >>> norms = timestep_gradient_norms(model, x, y)  # doctest: +SKIP
        >>> norms[0] / norms[-1]  # tiny for a vanilla RNN on long sequences  # doctest: +SKIP
    """
    inputs = tf.convert_to_tensor(inputs, dtype=tf.float32)
    if inputs.shape.rank != 3:
        raise ValueError(
            "Invalid value for argument `inputs`. Expected a float array of rank 3 "
            f"[batch, time, features]. Received shape {tuple(inputs.shape)}."
        )
    loss_fn = keras.losses.get(loss)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        value = tf.reduce_mean(loss_fn(targets, model(inputs, training=False)))
    gradient = tape.gradient(value, inputs)
    return tf.sqrt(tf.reduce_sum(tf.square(gradient), axis=[0, 2])).numpy().astype(np.float64)
