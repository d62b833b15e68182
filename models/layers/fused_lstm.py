"""The fused LSTM loop (see `models.layers.fused_rnn`): forward, hand-written backward."""

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


def _lstm_forward(projected, h0, c0, keep, recurrent_mask, recurrent_kernel, zero_output):
    """Outputs ``(T, B, U)``, final states and what the backward pass needs.

    ``projected`` is ``x W + b`` (`projected_inputs`), computed outside so the large
    matmul runs on TensorFlow's kernels also when this loop is compiled.
    """
    steps = tf.shape(projected)[0]
    inputs = tf.TensorArray(tf.float32, size=steps).unstack(projected)
    keeps = tf.TensorArray(tf.float32, size=steps).unstack(keep) if keep is not None else None
    units = recurrent_kernel.shape[0]

    def step(t, h, c, y):
        z = inputs.read(t) + tf.matmul(dropped_state(h, recurrent_mask), recurrent_kernel)
        i, f, _, o = tf.split(tf.sigmoid(z), 4, axis=-1)  # one op for the three gates
        g = tf.tanh(z[:, 2 * units : 3 * units])
        c_new = f * c + i * g
        h_new = o * tf.tanh(c_new)
        if keeps is None:  # outputs are the states, candidates the cell states
            return (h_new, c_new, y), (h_new, c_new, z)
        m = keeps.read(t)
        h_next, c_next = blend(m, h_new, h), blend(m, c_new, c)
        y_new = masked_output(m, h_new, y, zero_output)
        return (h_next, c_next, y_new), (h_next, c_next, z, y_new, c_new)

    (h, c, _), (hs, cs, pre_activations, *rest) = run_over_time(
        step, steps, (h0, c0, tf.zeros_like(h0)), values=3 if keep is None else 5
    )
    ys, candidates = rest if rest else (hs, cs)
    return ys, h, c, (hs, cs, candidates, pre_activations)


# In training both passes run compiled: XLA fuses each step's elementwise work
# (measured faster than TensorFlow's loop on CPU). Inference keeps the plain
# loop, which any shape and any TensorFlow runtime (e.g. TF Serving) runs.
_compiled_lstm_forward = tf.function(_lstm_forward, jit_compile=True)


@tf.function(jit_compile=True)
def _lstm_backward(c0, keep, recurrent_mask, saved, d_y, d_h, d_c, recurrent_kernel, zero_output):
    cs, candidates, pre_activations = saved
    previous_c = previous_states(c0, cs)

    def step(t, dh_next, dc_next, dy_carry):
        m = keep[t]
        dh_new, dy_carry = output_gradient(m, d_y[t], dy_carry, dh_next, zero_output)
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
        return (dh_previous, dc_previous, dy_carry), (dz,)

    (dh0, dc0, _), (dz,) = run_over_time(
        step, tf.shape(keep)[0], (d_h, d_c, tf.zeros_like(d_h)), values=1, reverse=True
    )
    return dz, dh0, dc0


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
        projected = projected_inputs(x, kernel, bias)
        ys, h, c, _ = _lstm_forward(
            projected, h0, c0, keep, recurrent_mask, recurrent_kernel, zero_output
        )
        return ys, h, c
    has_bias = bias is not None
    weights = (kernel, recurrent_kernel, bias if has_bias else tf.zeros(kernel.shape[-1:]))

    @tf.custom_gradient
    def run(x, h0, c0, kernel, recurrent_kernel, bias):
        projected = projected_inputs(x, kernel, bias if has_bias else None)
        loop_kernel, *loop_inputs = no_tape(
            recurrent_kernel, projected, h0, c0, keep, recurrent_mask
        )
        ys, h, c, saved = by_batch_shards(
            lambda p, h, c, k, m: _compiled_lstm_forward(p, h, c, k, m, loop_kernel, zero_output),
            loop_inputs,
        )

        def grad(d_y, d_h, d_c):
            recurrent_keep = ones_or(recurrent_mask, h0)
            dz, dh0, dc0 = by_batch_shards(
                lambda *sliced: _lstm_backward(*sliced, recurrent_kernel, zero_output),
                (
                    c0,
                    ones_or(keep, x),
                    recurrent_keep,
                    saved[1:],  # the cell states, candidates and pre-activations
                    or_zeros(d_y, ys),
                    or_zeros(d_h, h),
                    or_zeros(d_c, c),
                ),
            )
            # Outside the compiled loop, so the graph drops what nobody asks for (often d_x).
            d_x, d_kernel, d_recurrent, d_bias, _ = input_gradients(
                x, kernel, previous_states(h0, saved[0]) * recurrent_keep, dz, dz
            )
            return d_x, dh0, dc0, d_kernel, d_recurrent, d_bias

        return (ys, h, c), grad

    return run(x, h0, c0, *weights)
