"""Fused time loops for our LSTM and GRU on TensorFlow: the shared parts.

`keras.layers.RNN` runs a cell step by step and lets autodiff build the
backward pass: per step, the input matmul, the recurrent matmul and, in the
backward pass, four more small matmuls plus the bookkeeping of every
intermediate. These loops do what cuDNN does on a GPU:

- the input projection ``x W + b`` of all steps is one large matmul before
  the loop, so the loop holds only the recurrent matmul and the gates;
- in training, the backward pass is written by hand
  (`tf.custom_gradient`): a reverse loop computes the gate gradients, and
  the weight and input gradients are three large matmuls after it. Both
  loops are then compiled with XLA, which fuses each step's elementwise
  work (compiled once per input shape).

The loops are in `models.layers.fused_lstm` and `models.layers.fused_gru`;
this module holds what they share.
Semantics equal `keras.src.backend.tensorflow.rnn.rnn` over our cells
(`models.layers.rnn_cells`): the masked step keeps the previous states and
outputs the previous output (or zeros with ``zero_output_for_mask``), the
last output is the output at the last step. Time-major tensors throughout;
``keep`` is the mask as floats ``(T, B, 1)`` (1 = step taken).
"""

from __future__ import annotations

import os

import tensorflow as tf

# The compiled loops run each on one core; the batch is cut into this many
# shards whose loops TensorFlow runs side by side (the rows are independent).
# Compiled once per slice shape (a partial last batch adds one or two shapes).
BATCH_SHARDS = max(1, min(len(os.sched_getaffinity(0)), 4))


def flat(sequence):
    """``(T, B, N) -> (T * B, N)``; shapes read at run time (traces may generalize them)."""
    return tf.reshape(sequence, (-1, tf.shape(sequence)[-1]))


def projected_inputs(x, kernel, bias):
    """``x W + b`` for every step at once: ``(T, B, F) -> (T, B, G)``."""
    steps, batch = tf.shape(x)[0], tf.shape(x)[1]
    projected = tf.matmul(flat(x), kernel)
    if bias is not None:
        projected = projected + bias
    return tf.reshape(projected, (steps, batch, tf.shape(kernel)[-1]))


def blend(keep, new, old):
    """A masked step: ``new`` where ``keep`` is 1, ``old`` where 0; ``new`` without a mask."""
    return old + keep * (new - old) if keep is not None else new


def masked_output(keep, new, previous, zero_output):
    """A step's output under the mask ``keep``: the new one, else zeros or the previous one."""
    return keep * new if zero_output else blend(keep, new, previous)


def output_gradient(keep, d_output, d_carried, d_state, zero_output):
    """The gradient reaching a step's new state, and the part its output passes back.

    Args:
        keep: The step's mask ``(B, 1)``.
        d_output: Upstream gradient of the step's output.
        d_carried: Gradient carried back from the next step's output (a
            masked step outputs the previous output).
        d_state: Gradient of the step's state from the next step.
        zero_output: Masked steps output zeros (nothing is carried back).

    Returns:
        ``(gradient of the new state, gradient carried to the previous output)``.
    """
    d_y = d_output + d_carried
    carried = tf.zeros_like(d_y) if zero_output else (1.0 - keep) * d_y
    return keep * (d_y + d_state), carried


def dropped_state(h, recurrent_mask):
    """The state the recurrent matmul reads: ``h`` times the recurrent dropout mask, if any."""
    return h if recurrent_mask is None else h * recurrent_mask


def run_over_time(step, steps, carried, values, reverse=False):
    """A `tf.while_loop` over the steps, collecting what each step returns.

    Args:
        step: ``step(t, *carried) -> (carried, values)``; ``values`` is a
            tuple of tensors of the same shapes at every step.
        steps: Number of steps ``T`` (a scalar tensor).
        carried: The loop's initial carried tensors.
        values: How many tensors each step returns.
        reverse: Run ``t = T - 1, ..., 0`` (a backward pass).

    Returns:
        ``(final carried, values stacked over time as (T, ...) tensors)``.
    """

    def body(k, carried, arrays):
        t = steps - 1 - k if reverse else k
        carried, outputs = step(t, *carried)
        return k + 1, tuple(carried), tuple(a.write(t, v) for a, v in zip(arrays, outputs))

    arrays = tuple(tf.TensorArray(tf.float32, size=steps) for _ in range(values))
    _, carried, arrays = tf.while_loop(
        lambda k, *_: k < steps, body, (0, tuple(carried), arrays), maximum_iterations=steps
    )
    return carried, tuple(array.stack() for array in arrays)


def previous_states(initial, states):
    """The state before each step: ``initial`` then all but the last of ``states``."""
    return tf.concat([initial[None], states[:-1]], 0)


def input_gradients(x, kernel, previous_h, d_input, d_recurrent):
    """Weight, bias and input gradients from the per-step pre-activation gradients.

    Args:
        x: The loop's inputs ``(T, B, F)``.
        kernel: Input kernel ``(F, G)``.
        previous_h: The state each step's recurrent matmul read ``(T, B, U)``.
        d_input: Gradients of the input pre-activations ``(T, B, G)``.
        d_recurrent: Gradients of the recurrent pre-activations ``(T, B, G)``.

    Returns:
        ``(d_x, d_kernel, d_recurrent_kernel, d_input_bias, d_recurrent_bias)``.
    """
    flat_input, flat_recurrent = flat(d_input), flat(d_recurrent)
    d_kernel = tf.matmul(flat(x), flat_input, transpose_a=True)
    d_recurrent_kernel = tf.matmul(flat(previous_h), flat_recurrent, transpose_a=True)
    d_x = tf.reshape(tf.matmul(flat_input, kernel, transpose_b=True), tf.shape(x))
    return (
        d_x,
        d_kernel,
        d_recurrent_kernel,
        tf.reduce_sum(flat_input, 0),
        tf.reduce_sum(flat_recurrent, 0),
    )


def no_tape(*tensors):
    """The tensors (None kept) with autodiff stopped, for the loops under `tf.custom_gradient`.

    Their gradients are the hand-written ones; eagerly the tape would also try
    to differentiate the compiled loop, and fail.
    """
    return tuple(None if t is None else tf.stop_gradient(t) for t in tensors)


def or_zeros(gradient, like):
    """An upstream gradient, zeros where TensorFlow passes None (an unused output)."""
    return tf.zeros_like(like) if gradient is None else gradient


def ones_or(mask, like):
    """``mask``, or ones in its place (the compiled backward pass takes no None)."""
    if mask is not None:
        return mask
    return tf.ones_like(like[..., :1]) if like.shape.rank == 3 else tf.ones_like(like)


def _batch_axis(tensor) -> int:
    return 1 if tensor.shape.rank == 3 else 0  # time-major sequences, (B, U) states


def _split_batch(tensor, parts):
    if tensor is None:
        return [None] * parts
    size = tf.shape(tensor)[_batch_axis(tensor)]
    sizes = tf.stack([(size + i) // parts for i in range(parts)])
    return tf.split(tensor, sizes, num=parts, axis=_batch_axis(tensor))


def by_batch_shards(function, batch_arguments, parts=None):
    """``function(*batch_arguments)``, computed on `BATCH_SHARDS` slices of the batch side by side.

    Args:
        function: Takes the arguments in order; every tensor argument and
            output is ``(T, B, ...)`` (time-major) or ``(B, ...)``.
        batch_arguments: Tensors (or None, or tuples of tensors) to slice
            along the batch.
        parts: Number of slices; default `BATCH_SHARDS`.

    Returns:
        The outputs of the slices, concatenated along the batch.
    """
    parts = parts or BATCH_SHARDS
    if parts == 1:
        return function(*batch_arguments)
    sliced = [
        list(zip(*[_split_batch(t, parts) for t in argument]))
        if isinstance(argument, tuple)
        else _split_batch(argument, parts)
        for argument in batch_arguments
    ]
    results = [function(*[argument[i] for argument in sliced]) for i in range(parts)]
    return tf.nest.map_structure(
        lambda *outputs: tf.concat(outputs, axis=_batch_axis(outputs[0])), *results
    )
