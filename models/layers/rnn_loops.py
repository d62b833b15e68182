"""Which time loop runs a recurrent layer: cuDNN, our fused loop, or `keras.layers.RNN`'s.

`BaseRecurrent.inner_loop` asks here in that order:

1. **cuDNN** (``use_cudnn`` ``"auto"`` or True, on a GPU with the
   TensorFlow backend): the backend's ``lstm``/``gru``, exactly as Keras's
   LSTM and GRU call it; it raises `NotImplementedError` elsewhere.
2. **The fused loop** of `models.layers.fused_rnn` (TensorFlow backend,
   float32, an LSTM or GRU (``reset_after=True``) with ``tanh``/``sigmoid``
   activations, not ``unroll``; in training also a known number of steps,
   since training compiles it per shape).
3. Otherwise `keras.layers.RNN`'s generic loop over our cell.
"""

from __future__ import annotations

import keras
from keras import ops
from keras.src import backend

from models.layers.rnn_cells import GRUCell, LSTMCell


def _activation_is(activation, name: str) -> bool:
    return activation is keras.activations.get(name)


def _dropped_sequences(cell, sequences, training):
    """The inputs with this sequence's dropout mask (drawn before the loop)."""
    if not (training and cell.dropout > 0.0):
        return sequences
    mask = cell.get_dropout_mask(sequences[:, 0, :])
    return sequences * ops.expand_dims(mask, 1)


def cudnn_loop(layer, sequences, initial_state, mask, training):
    """The backend's cuDNN loop for an LSTM or GRU, or None where it does not run.

    Mirrors `keras.layers.LSTM.inner_loop` and `keras.layers.GRU.inner_loop`:
    no recurrent dropout, input dropout applied first.
    """
    cell = layer.cell
    if layer.use_cudnn not in ("auto", True) or cell.recurrent_dropout:
        return None
    arguments = {
        "kernel": cell.kernel,
        "recurrent_kernel": cell.recurrent_kernel,
        "bias": cell.bias,
        "activation": cell.activation,
        "recurrent_activation": cell.recurrent_activation,
        "return_sequences": layer.return_sequences,
        "go_backwards": layer.go_backwards,
        "unroll": layer.unroll,
    }
    inputs = _dropped_sequences(cell, sequences, training)
    try:
        if isinstance(cell, LSTMCell):
            return backend.lstm(inputs, initial_state[0], initial_state[1], mask, **arguments)
        return backend.gru(
            inputs, initial_state[0], mask, reset_after=cell.reset_after, **arguments
        )
    except NotImplementedError:
        return None


def fused_loop_applies(layer, sequences, training) -> bool:
    """Whether `fused_loop` computes this call (see the module docstring)."""
    cell = layer.cell
    # SimpleRNN stays on the generic loop: its step is one matmul and a tanh,
    # too little for the fused loop's set-up to pay (a trial version was slower).
    if isinstance(cell, (LSTMCell, GRUCell)):
        supported_cell = _activation_is(cell.recurrent_activation, "sigmoid") and getattr(
            cell, "reset_after", True
        )
    else:
        supported_cell = False
    return (
        supported_cell
        and backend.backend() == "tensorflow"
        and not layer.unroll
        and _activation_is(cell.activation, "tanh")
        and keras.backend.standardize_dtype(sequences.dtype) == "float32"
        and cell.variable_dtype == "float32"
        and sequences.shape[-1] is not None
        and (not training or sequences.shape[1] is not None)
    )


def fused_loop(layer, sequences, initial_state, mask, training):
    """Runs `models.layers.fused_rnn` for the layer; returns ``(last, outputs, states)``.

    The triple is `keras.src.backend.rnn`'s: the last output, the outputs
    ``(batch, time, units)`` (only the last one unless
    ``return_sequences``), the final states.
    """
    import tensorflow as tf

    from models.layers.fused_gru import gru_sequence
    from models.layers.fused_lstm import lstm_sequence

    cell = layer.cell
    x = tf.transpose(_dropped_sequences(cell, sequences, training), (1, 0, 2))
    keep = None
    if mask is not None:
        keep = tf.cast(tf.transpose(mask), x.dtype)[..., None]
    if layer.go_backwards:
        x = tf.reverse(x, [0])
        keep = None if keep is None else tf.reverse(keep, [0])
    recurrent_mask = None
    if training and cell.recurrent_dropout > 0.0:
        recurrent_mask = cell.get_recurrent_dropout_mask(initial_state[0])
    common = {"zero_output": layer.zero_output_for_mask, "train": bool(training)}
    weights = [tf.convert_to_tensor(w) for w in (cell.kernel, cell.recurrent_kernel)]
    bias = tf.convert_to_tensor(cell.bias) if cell.use_bias else None
    if isinstance(cell, LSTMCell):
        outputs, h, c = lstm_sequence(
            x, *initial_state[:2], keep, recurrent_mask, *weights, bias, **common
        )
        states = [h, c]
    else:
        outputs, h = gru_sequence(
            x, initial_state[0], keep, recurrent_mask, *weights, bias, **common
        )
        states = [h]
    last = outputs[-1]
    outputs = tf.transpose(outputs, (1, 0, 2)) if layer.return_sequences else last[:, None]
    steps = sequences.shape[1] if layer.return_sequences else 1
    outputs.set_shape((sequences.shape[0], steps, cell.units))  # the loop loses static shapes
    return last, outputs, states
