"""The fused GRU loop, ``reset_after=True`` (see `models.layers.fused_rnn`)."""

from __future__ import annotations

import tensorflow as tf

from models.layers.fused_rnn import (
    blend,
    by_batch_shards,
    dropped_state,
    input_gradients,
    no_tape,
    ones_or,
    or_zeros,
    previous_states,
    projected_inputs,
    stack_time,
    time_arrays,
)


def _gru_forward(
    projected, h0, keep, recurrent_mask, recurrent_kernel, recurrent_bias, zero_output
):
    """GRU with ``reset_after=True``: outputs, final state and what backward needs.

    ``projected`` is ``x W + b_input``, as in `_lstm_forward`.
    """
    steps = tf.shape(projected)[0]
    inputs = tf.TensorArray(tf.float32, size=steps).unstack(projected)
    keeps = tf.TensorArray(tf.float32, size=steps).unstack(keep) if keep is not None else None

    def step(t, h, y, outputs):
        x_z, x_r, x_h = tf.split(inputs.read(t), 3, axis=-1)
        recurrent = tf.matmul(dropped_state(h, recurrent_mask), recurrent_kernel)
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
            y_new = m * h_new if zero_output else blend(m, h_new, y)
            h_next = blend(m, h_new, h)
            values = (h_next, recurrent, y_new)
        outputs = tuple(array.write(t, v) for array, v in zip(outputs, values))
        return t + 1, h_next, y_new, outputs

    _, h, _, outputs = tf.while_loop(
        lambda t, *_: t < steps,
        step,
        (0, h0, tf.zeros_like(h0), time_arrays(steps, 2 if keep is None else 3)),
        maximum_iterations=steps,
    )
    hs, recurrents, *rest = stack_time(outputs)
    return (rest[0] if rest else hs), h, (hs, recurrents)


_compiled_gru_forward = tf.function(_gru_forward, jit_compile=True)


@tf.function(jit_compile=True)
def _gru_backward(h0, keep, recurrent_mask, saved, d_y, d_h, recurrent_kernel, zero_output):
    hs, projected, recurrents = saved
    steps = tf.shape(keep)[0]
    previous_h = previous_states(h0, hs)

    def step(k, dh_next, dy_carry, d_candidates, d_recurrents):
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
            d_candidates.write(t, d_candidate),
            d_recurrents.write(t, d_recurrent),
        )

    _, dh0, _, d_candidates, d_recurrents = tf.while_loop(
        lambda k, *_: k < steps,
        step,
        (0, d_h, tf.zeros_like(d_h), *time_arrays(steps, 2)),
        maximum_iterations=steps,
    )
    # The input gradients equal the recurrent ones but for the candidate block
    # (the reset gate multiplies only the recurrent side).
    d_recurrents = d_recurrents.stack()
    units = tf.shape(dh0)[-1]
    d_inputs = tf.concat([d_recurrents[..., : 2 * units], d_candidates.stack()], -1)
    return d_inputs, d_recurrents, dh0


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
    input_bias, recurrent_bias = (None, None) if bias is None else (bias[0], bias[1])
    if not train:
        ys, h, _ = _gru_forward(
            projected_inputs(x, kernel, input_bias),
            h0,
            keep,
            recurrent_mask,
            recurrent_kernel,
            recurrent_bias,
            zero_output,
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
        projected = projected_inputs(x, kernel, bias[0] if has_bias else None)
        loop_kernel, loop_bias, *loop_inputs = no_tape(
            recurrent_kernel, bias[1] if has_bias else None, projected, h0, keep, recurrent_mask
        )
        ys, h, (hs, recurrents) = by_batch_shards(
            lambda p, h, k, m: _compiled_gru_forward(
                p, h, k, m, loop_kernel, loop_bias, zero_output
            ),
            loop_inputs,
        )

        def grad(d_y, d_h):
            recurrent_keep = ones_or(recurrent_mask, h0)
            d_inputs, d_recurrents, dh0 = by_batch_shards(
                lambda *sliced: _gru_backward(*sliced, recurrent_kernel, zero_output),
                (
                    h0,
                    ones_or(keep, x),
                    recurrent_keep,
                    (hs, projected, recurrents),
                    or_zeros(d_y, ys),
                    or_zeros(d_h, h),
                ),
            )
            d_x, d_kernel, d_recurrent_kernel, d_input_bias, d_recurrent_bias = input_gradients(
                x, kernel, previous_states(h0, hs) * recurrent_keep, d_inputs, d_recurrents
            )
            d_bias = tf.stack([d_input_bias, d_recurrent_bias])
            return d_x, dh0, d_kernel, d_recurrent_kernel, d_bias

        return (ys, h), grad

    return run(x, h0, *weights)
