"""The fused GRU loop, ``reset_after=True`` (see `models.layers.fused_rnn`)."""

from __future__ import annotations

import tensorflow as tf

from models.layers.fused_rnn import (
    blend,
    by_batch_shards,
    dropped_state,
    input_gradients,
    masked_output,
    no_tape,
    ones_or,
    or_zeros,
    output_gradient,
    previous_states,
    projected_inputs,
    run_over_time,
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

    def step(t, h, y):
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
            return (h_new, y), (h_new, recurrent)
        m = keeps.read(t)
        h_next = blend(m, h_new, h)
        y_new = masked_output(m, h_new, y, zero_output)
        return (h_next, y_new), (h_next, recurrent, y_new)

    (h, _), (hs, recurrents, *rest) = run_over_time(
        step, steps, (h0, tf.zeros_like(h0)), values=2 if keep is None else 3
    )
    return (rest[0] if rest else hs), h, (hs, recurrents)


_compiled_gru_forward = tf.function(_gru_forward, jit_compile=True)


@tf.function(jit_compile=True)
def _gru_backward(previous_h, keep, recurrent_mask, saved, d_y, d_h, recurrent_kernel, zero_output):
    projected, recurrents = saved

    def step(t, dh_next, dy_carry):
        m = keep[t]
        dh_new, dy_carry = output_gradient(m, d_y[t], dy_carry, dh_next, zero_output)
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
        return (dh_previous, dy_carry), (d_candidate, d_recurrent)

    (dh0, _), (d_candidates, d_recurrents) = run_over_time(
        step, tf.shape(keep)[0], (d_h, tf.zeros_like(d_h)), values=2, reverse=True
    )
    # The input gradients equal the recurrent ones but for the candidate block
    # (the reset gate multiplies only the recurrent side).
    units = tf.shape(dh0)[-1]
    d_inputs = tf.concat([d_recurrents[..., : 2 * units], d_candidates], -1)
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
    if not train:
        input_bias, recurrent_bias = (None, None) if bias is None else (bias[0], bias[1])
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
    weights = (kernel, recurrent_kernel, bias if has_bias else tf.zeros((2, kernel.shape[-1])))

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
            previous_h = previous_states(h0, hs)
            d_inputs, d_recurrents, dh0 = by_batch_shards(
                lambda *sliced: _gru_backward(*sliced, recurrent_kernel, zero_output),
                (
                    previous_h,
                    ones_or(keep, x),
                    recurrent_keep,
                    (projected, recurrents),
                    or_zeros(d_y, ys),
                    or_zeros(d_h, h),
                ),
            )
            d_x, d_kernel, d_recurrent_kernel, d_input_bias, d_recurrent_bias = input_gradients(
                x, kernel, previous_h * recurrent_keep, d_inputs, d_recurrents
            )
            d_bias = tf.stack([d_input_bias, d_recurrent_bias])
            return d_x, dh0, d_kernel, d_recurrent_kernel, d_bias

        return (ys, h), grad

    return run(x, h0, *weights)
