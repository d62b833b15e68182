"""Fused time loops for our LSTM and GRU on TensorFlow: one input projection, own gradients.

`keras.layers.RNN` runs a cell step by step and lets autodiff build the
backward pass: per step, the input matmul, the recurrent matmul and, in the
backward pass, four more small matmuls plus the bookkeeping of every
intermediate. These loops do what cuDNN does on a GPU:

- the input projection ``x W + b`` of all steps is one large matmul before
  the loop, so the loop holds only the recurrent matmul and the gates;
- in training, the backward pass is written by hand
  (`tf.custom_gradient`): a reverse loop computes the gate gradients, and
  the weight and input gradients are three large matmuls after it. The
  reverse loop is compiled with XLA, which fuses its elementwise work.

Semantics equal `keras.src.backend.tensorflow.rnn.rnn` over our cells
(`models.layers.rnn_cells`): the masked step keeps the previous states and
outputs the previous output (or zeros with ``zero_output_for_mask``), the
last output is the output at the last step. Time-major tensors throughout;
``keep`` is the mask as floats ``(T, B, 1)`` (1 = step taken).
"""

from __future__ import annotations

import tensorflow as tf


def _projected(x, kernel, bias):
    """``x W + b`` for every step at once: ``(T, B, F) -> (T, B, G)``."""
    steps, batch = tf.shape(x)[0], tf.shape(x)[1]
    flat = tf.matmul(_flat(x), kernel)
    if bias is not None:
        flat = flat + bias
    return tf.reshape(flat, (steps, batch, tf.shape(kernel)[-1]))


def _flat(sequence):
    """``(T, B, N) -> (T * B, N)``; shapes read at run time (traces may generalize them)."""
    return tf.reshape(sequence, (-1, tf.shape(sequence)[-1]))


def _blend(keep, new, old):
    return old + keep * (new - old) if keep is not None else new


def _arrays(steps, count):
    return tuple(tf.TensorArray(tf.float32, size=steps) for _ in range(count))


def _stack_time(outputs):
    return tuple(array.stack() for array in outputs)


def _input_gradients(x, kernel, previous_h, d_input, d_recurrent):
    """Weight, bias and input gradients from the per-step pre-activation gradients."""
    flat_input, flat_recurrent = _flat(d_input), _flat(d_recurrent)
    d_kernel = tf.matmul(_flat(x), flat_input, transpose_a=True)
    d_recurrent_kernel = tf.matmul(_flat(previous_h), flat_recurrent, transpose_a=True)
    d_x = tf.reshape(tf.matmul(flat_input, kernel, transpose_b=True), tf.shape(x))
    return (
        d_x,
        d_kernel,
        d_recurrent_kernel,
        tf.reduce_sum(flat_input, 0),
        tf.reduce_sum(flat_recurrent, 0),
    )


def _previous(initial, states):
    """The state before each step: ``initial`` then all but the last of ``states``."""
    return tf.concat([initial[None], states[:-1]], 0)


# ----------------------------------------------------------------------- LSTM


def _dropped(h, recurrent_mask):
    return h if recurrent_mask is None else h * recurrent_mask


def _lstm_forward(x, h0, c0, keep, recurrent_mask, kernel, recurrent_kernel, bias, zero_output):
    """Outputs ``(T, B, U)``, final states and what the backward pass needs."""
    steps = tf.shape(x)[0]
    projected = _projected(x, kernel, bias)
    inputs = tf.TensorArray(tf.float32, size=steps).unstack(projected)
    keeps = tf.TensorArray(tf.float32, size=steps).unstack(keep) if keep is not None else None
    units = recurrent_kernel.shape[0]

    def step(t, h, c, y, outputs):
        z = inputs.read(t) + tf.matmul(_dropped(h, recurrent_mask), recurrent_kernel)
        i, f, _, o = tf.split(tf.sigmoid(z), 4, axis=-1)  # one op for the three gates
        g = tf.tanh(z[:, 2 * units : 3 * units])
        c_new = f * c + i * g
        h_new = o * tf.tanh(c_new)
        if keeps is None:  # outputs are the states, candidates the cell states
            values, y_new, h_next, c_next = (h_new, c_new, z), y, h_new, c_new
        else:
            m = keeps.read(t)
            y_new = m * h_new if zero_output else _blend(m, h_new, y)
            h_next, c_next = _blend(m, h_new, h), _blend(m, c_new, c)
            values = (h_next, c_next, z, y_new, c_new)
        outputs = tuple(array.write(t, v) for array, v in zip(outputs, values))
        return t + 1, h_next, c_next, y_new, outputs

    _, h, c, _, outputs = tf.while_loop(
        lambda t, *_: t < steps,
        step,
        (0, h0, c0, tf.zeros_like(h0), _arrays(steps, 3 if keep is None else 5)),
        maximum_iterations=steps,
    )
    hs, cs, pre_activations, *rest = _stack_time(outputs)
    ys, candidates = rest if rest else (hs, cs)
    return ys, h, c, (hs, cs, candidates, pre_activations)


@tf.function(jit_compile=True, reduce_retracing=True)
def _lstm_backward(
    x, h0, c0, keep, recurrent_mask, kernel, recurrent_kernel, saved, d_y, d_h, d_c, zero_output
):
    hs, cs, candidates, pre_activations = saved
    steps = tf.shape(x)[0]
    previous_c = _previous(c0, cs)

    def step(k, dh_next, dc_next, dy_carry, grads):
        t = steps - 1 - k
        m = keep[t]
        dy = d_y[t] + dy_carry
        dh_new = m * (dy + dh_next)
        z_i, z_f, z_c, z_o = tf.split(pre_activations[t], 4, axis=-1)
        i, f, g, o = tf.sigmoid(z_i), tf.sigmoid(z_f), tf.tanh(z_c), tf.sigmoid(z_o)
        tanh_c = tf.tanh(candidates[t])
        dc_new = m * dc_next + dh_new * o * (1.0 - tanh_c * tanh_c)
        dz = tf.concat(
            [
                dc_new * g * i * (1.0 - i),
                dc_new * previous_c[t] * f * (1.0 - f),
                dc_new * i * (1.0 - g * g),
                dh_new * tanh_c * o * (1.0 - o),
            ],
            -1,
        )
        dh_previous = (
            recurrent_mask * tf.matmul(dz, recurrent_kernel, transpose_b=True) + (1.0 - m) * dh_next
        )
        dc_previous = dc_new * f + (1.0 - m) * dc_next
        carry = tf.zeros_like(dy) if zero_output else (1.0 - m) * dy
        return k + 1, dh_previous, dc_previous, carry, grads.write(t, dz)

    _, dh0, dc0, _, grads = tf.while_loop(
        lambda k, *_: k < steps,
        step,
        (0, d_h, d_c, tf.zeros_like(d_h), tf.TensorArray(tf.float32, size=steps)),
        maximum_iterations=steps,
    )
    return grads.stack(), dh0, dc0


def lstm_sequence(
    x, h0, c0, keep, recurrent_mask, kernel, recurrent_kernel, bias, *, zero_output, train
):
    """Runs an LSTM over time-major ``x``; differentiable, by hand when ``train``.

    Args:
        x: Inputs ``(T, B, F)`` (dropout already applied).
        h0: Initial hidden state ``(B, U)``.
        c0: Initial cell state ``(B, U)``.
        keep: The mask as floats ``(T, B, 1)``, or None.
        recurrent_mask: Recurrent dropout mask ``(B, U)``, or None.
        kernel: Input kernel ``(F, 4U)``, gates ``i, f, c, o``.
        recurrent_kernel: Recurrent kernel ``(U, 4U)``.
        bias: Bias ``(4U,)`` or None.
        zero_output: Masked steps output zeros instead of the previous output.
        train: Use the hand-written backward pass (and save what it needs).

    Returns:
        ``(outputs (T, B, U), h, c)``.
    """
    if not train:
        ys, h, c, _ = _lstm_forward(
            x, h0, c0, keep, recurrent_mask, kernel, recurrent_kernel, bias, zero_output
        )
        return ys, h, c
    has_bias = bias is not None
    weights = (kernel, recurrent_kernel, bias if has_bias else tf.zeros(kernel.shape[-1:]))

    @tf.custom_gradient
    def run(x, h0, c0, kernel, recurrent_kernel, bias):
        ys, h, c, saved = _lstm_forward(
            x,
            h0,
            c0,
            keep,
            recurrent_mask,
            kernel,
            recurrent_kernel,
            bias if has_bias else None,
            zero_output,
        )

        def grad(d_y, d_h, d_c):
            recurrent_keep = _ones_or(recurrent_mask, h0)
            dz, dh0, dc0 = _lstm_backward(
                x,
                h0,
                c0,
                _ones_or(keep, x),
                recurrent_keep,
                kernel,
                recurrent_kernel,
                saved,
                _or_zeros(d_y, ys),
                _or_zeros(d_h, h),
                _or_zeros(d_c, c),
                zero_output,
            )
            # Outside the compiled loop, so the graph drops what nobody asks for (often d_x).
            d_x, d_kernel, d_recurrent, d_bias, _ = _input_gradients(
                x, kernel, _previous(h0, saved[0]) * recurrent_keep, dz, dz
            )
            return d_x, dh0, dc0, d_kernel, d_recurrent, d_bias

        return (ys, h, c), grad

    return run(x, h0, c0, *weights)


def _or_zeros(gradient, like):
    return tf.zeros_like(like) if gradient is None else gradient


def _ones_or(mask, like):
    """``mask``, or ones in its place (the compiled backward pass takes no None)."""
    if mask is not None:
        return mask
    return tf.ones_like(like[..., :1]) if like.shape.rank == 3 else tf.ones_like(like)


# ------------------------------------------------------------------------ GRU


def _gru_forward(x, h0, keep, recurrent_mask, kernel, recurrent_kernel, bias, zero_output):
    """GRU with ``reset_after=True``: outputs, final state and what backward needs."""
    steps = tf.shape(x)[0]
    input_bias, recurrent_bias = (None, None) if bias is None else (bias[0], bias[1])
    projected = _projected(x, kernel, input_bias)
    inputs = tf.TensorArray(tf.float32, size=steps).unstack(projected)
    keeps = tf.TensorArray(tf.float32, size=steps).unstack(keep) if keep is not None else None

    def step(t, h, y, outputs):
        x_z, x_r, x_h = tf.split(inputs.read(t), 3, axis=-1)
        recurrent = tf.matmul(_dropped(h, recurrent_mask), recurrent_kernel)
        if recurrent_bias is not None:
            recurrent = recurrent + recurrent_bias
        r_z, r_r, r_h = tf.split(recurrent, 3, axis=-1)
        z = tf.sigmoid(x_z + r_z)
        r = tf.sigmoid(x_r + r_r)
        candidate = tf.tanh(x_h + r * r_h)
        h_new = z * h + (1.0 - z) * candidate
        if keeps is None:  # outputs are the states
            values, y_new, h_next = (h_new, recurrent), y, h_new
        else:
            m = keeps.read(t)
            y_new = m * h_new if zero_output else _blend(m, h_new, y)
            h_next = _blend(m, h_new, h)
            values = (h_next, recurrent, y_new)
        outputs = tuple(array.write(t, v) for array, v in zip(outputs, values))
        return t + 1, h_next, y_new, outputs

    _, h, _, outputs = tf.while_loop(
        lambda t, *_: t < steps,
        step,
        (0, h0, tf.zeros_like(h0), _arrays(steps, 2 if keep is None else 3)),
        maximum_iterations=steps,
    )
    hs, recurrents, *rest = _stack_time(outputs)
    return (rest[0] if rest else hs), h, (hs, projected, recurrents)


@tf.function(jit_compile=True, reduce_retracing=True)
def _gru_backward(
    x, h0, keep, recurrent_mask, kernel, recurrent_kernel, saved, d_y, d_h, zero_output
):
    hs, projected, recurrents = saved
    steps = tf.shape(x)[0]
    previous_h = _previous(h0, hs)

    def step(k, dh_next, dy_carry, d_inputs, d_recurrents):
        t = steps - 1 - k
        m = keep[t]
        dy = d_y[t] + dy_carry
        dh_new = m * (dy + dh_next)
        x_z, x_r, x_h = tf.split(projected[t], 3, axis=-1)
        r_z, r_r, r_h = tf.split(recurrents[t], 3, axis=-1)
        z, r = tf.sigmoid(x_z + r_z), tf.sigmoid(x_r + r_r)
        candidate = tf.tanh(x_h + r * r_h)
        dz = dh_new * (previous_h[t] - candidate) * z * (1.0 - z)
        d_candidate = dh_new * (1.0 - z) * (1.0 - candidate * candidate)
        dr = d_candidate * r_h * r * (1.0 - r)
        d_recurrent = tf.concat([dz, dr, d_candidate * r], -1)
        dh_previous = (
            recurrent_mask * tf.matmul(d_recurrent, recurrent_kernel, transpose_b=True)
            + dh_new * z
            + (1.0 - m) * dh_next
        )
        carry = tf.zeros_like(dy) if zero_output else (1.0 - m) * dy
        return (
            k + 1,
            dh_previous,
            carry,
            d_inputs.write(t, tf.concat([dz, dr, d_candidate], -1)),
            d_recurrents.write(t, d_recurrent),
        )

    _, dh0, _, d_inputs, d_recurrents = tf.while_loop(
        lambda k, *_: k < steps,
        step,
        (0, d_h, tf.zeros_like(d_h), *_arrays(steps, 2)),
        maximum_iterations=steps,
    )
    return d_inputs.stack(), d_recurrents.stack(), dh0


def gru_sequence(
    x, h0, keep, recurrent_mask, kernel, recurrent_kernel, bias, *, zero_output, train
):
    """Runs a GRU (``reset_after=True``) over time-major ``x``; see `lstm_sequence`.

    Args:
        x: Inputs ``(T, B, F)`` (dropout already applied).
        h0: Initial state ``(B, U)``.
        keep: The mask as floats ``(T, B, 1)``, or None.
        recurrent_mask: Recurrent dropout mask ``(B, U)``, or None.
        kernel: Input kernel ``(F, 3U)``, gates ``z, r, h``.
        recurrent_kernel: Recurrent kernel ``(U, 3U)``.
        bias: Input and recurrent biases ``(2, 3U)`` or None.
        zero_output: Masked steps output zeros instead of the previous output.
        train: Use the hand-written backward pass.

    Returns:
        ``(outputs (T, B, U), h)``.
    """
    if not train:
        ys, h, _ = _gru_forward(
            x, h0, keep, recurrent_mask, kernel, recurrent_kernel, bias, zero_output
        )
        return ys, h
    has_bias = bias is not None
    weights = (
        kernel,
        recurrent_kernel,
        bias if has_bias else tf.zeros((2, kernel.shape[-1])),
    )

    @tf.custom_gradient
    def run(x, h0, kernel, recurrent_kernel, bias):
        ys, h, saved = _gru_forward(
            x,
            h0,
            keep,
            recurrent_mask,
            kernel,
            recurrent_kernel,
            bias if has_bias else None,
            zero_output,
        )

        def grad(d_y, d_h):
            recurrent_keep = _ones_or(recurrent_mask, h0)
            d_inputs, d_recurrents, dh0 = _gru_backward(
                x,
                h0,
                _ones_or(keep, x),
                recurrent_keep,
                kernel,
                recurrent_kernel,
                saved,
                _or_zeros(d_y, ys),
                _or_zeros(d_h, h),
                zero_output,
            )
            d_x, d_kernel, d_recurrent_kernel, d_input_bias, d_recurrent_bias = _input_gradients(
                x, kernel, _previous(h0, saved[0]) * recurrent_keep, d_inputs, d_recurrents
            )
            d_bias = tf.stack([d_input_bias, d_recurrent_bias])
            return d_x, dh0, d_kernel, d_recurrent_kernel, d_bias

        return (ys, h), grad

    return run(x, h0, *weights)
