"""Encoder-decoder (many-to-many, different lengths) on our recurrent layers.

``seq2seq`` builds three Keras models that share every layer:

- ``training``: ``(source_ids, decoder_input_ids) -> next-token probabilities``
  (teacher forcing: the decoder reads the reference shifted right, starting
  with the start token);
- ``encoder``: ``source_ids -> (source_ids, encoder_outputs, *states)`` (the
  ids pass through: the attention masks padding with them);
- ``decoder_step``: ``(token_ids [b, 1], source_ids, encoder_outputs,
  *states) -> (probabilities [b, vocabulary], *new_states)``, which the
  decoding loops in `models.decoding` call once per generated token.

The decoder starts from the encoder's final state (concatenated over both
directions when the encoder is bidirectional, so the decoder has twice the
units). Optional attention over the encoder outputs: ``"luong"`` (dot
product) or ``"bahdanau"`` (additive). Id 0 is padding, masked in the
encoder, the attention and the loss.
"""

from __future__ import annotations

import dataclasses

import keras

from models.layers.rnn import GRU, LSTM
from models.recurrent import RecurrentSpec, weight_regularizer
from models.validation import check_positive_int

ATTENTION = (None, "luong", "bahdanau")
_DECODER_LAYERS = {"lstm": LSTM, "gru": GRU}


@dataclasses.dataclass(frozen=True)
class Seq2Seq:
    """The three models of an encoder-decoder, sharing their layers.

    Attributes:
        training: Teacher-forced model for `fit`.
        encoder: Source ids to ``[source_ids, encoder_outputs, *states]``.
        decoder_step: One decoding step.
        state_count: Number of state tensors (2 for LSTM, 1 for GRU).
    """

    training: keras.Model
    encoder: keras.Model
    decoder_step: keras.Model
    state_count: int


def check_attention(attention):
    """Raises `ValueError` unless ``attention`` is None, ``"luong"`` or ``"bahdanau"``."""
    if attention not in ATTENTION:
        raise ValueError(
            f"Invalid value for argument `attention`. Expected one of {list(ATTENTION)}. "
            f"Received attention={attention!r}."
        )


def _encoder_states(recurrent: RecurrentSpec, source_embedded):
    """Runs the encoder stack; returns its outputs and final states (merged directions)."""
    outputs = source_embedded
    for index in range(recurrent.layers - 1):
        outputs = recurrent.layer(index, return_sequences=True)(outputs)
    last = recurrent.layer(recurrent.layers - 1, return_sequences=True)
    inner = last.forward_layer if isinstance(last, keras.layers.Bidirectional) else last
    inner.return_state = True
    if isinstance(last, keras.layers.Bidirectional):
        last.backward_layer.return_state = True
        last.return_state = True
    results = last(outputs)
    outputs, states = results[0], list(results[1:])
    if recurrent.bidirectional:
        half = len(states) // 2
        states = [
            keras.layers.Concatenate(name=f"encoder_state_{i}")([states[i], states[half + i]])
            for i in range(half)
        ]
    return outputs, states


def seq2seq(
    source_vocabulary_size: int,
    target_vocabulary_size: int,
    *,
    embedding_dim: int = 64,
    recurrent: RecurrentSpec | None = None,
    attention: str | None = None,
    name: str = "seq2seq",
) -> Seq2Seq:
    """Builds an encoder-decoder whose cells are our LSTM or GRU.

    Args:
        source_vocabulary_size: Size of the source id space.
        target_vocabulary_size: Size of the target id space (start, end,
            padding and unknown included).
        embedding_dim: Size of source and target word vectors.
        recurrent: The encoder stack (``cell`` lstm or gru; ``layers``,
            ``bidirectional``, dropout and L1/L2 apply to the encoder, cell,
            dropout and L1/L2 to the decoder). Default: one LSTM of 64 units.
        attention: None, ``"luong"`` or ``"bahdanau"``.
        name: Prefix of the models' names.

    Returns:
        A `Seq2Seq`; compile ``training`` before fitting.

    Raises:
        ValueError: On a bad argument (``simple_rnn`` cells are refused: the
            decoder needs a gated cell to carry the encoder state).
    """
    check_positive_int("source_vocabulary_size", source_vocabulary_size)
    check_positive_int("target_vocabulary_size", target_vocabulary_size)
    check_positive_int("embedding_dim", embedding_dim)
    check_attention(attention)
    recurrent = recurrent or RecurrentSpec()
    if recurrent.cell not in _DECODER_LAYERS:
        raise ValueError(
            f"Invalid value for argument `cell`. An encoder-decoder takes one of "
            f"{list(_DECODER_LAYERS)}. Received cell={recurrent.cell!r}."
        )
    state_count = 2 if recurrent.cell == "lstm" else 1
    decoder_units = recurrent.output_units

    source_ids = keras.Input((None,), dtype="int64", name="source_ids")
    source_embedding = keras.layers.Embedding(
        source_vocabulary_size, embedding_dim, mask_zero=True, name="source_embedding"
    )
    encoder_outputs, states = _encoder_states(recurrent, source_embedding(source_ids))
    encoder = keras.Model(
        source_ids, [source_ids, encoder_outputs, *states], name=f"{name}_encoder"
    )

    target_embedding = keras.layers.Embedding(
        target_vocabulary_size, embedding_dim, mask_zero=True, name="target_embedding"
    )
    decoder_rnn = _DECODER_LAYERS[recurrent.cell](
        decoder_units,
        return_sequences=True,
        return_state=True,
        dropout=recurrent.dropout,
        recurrent_dropout=recurrent.recurrent_dropout,
        kernel_regularizer=weight_regularizer(recurrent.l1, recurrent.l2),
        recurrent_regularizer=weight_regularizer(recurrent.l1, recurrent.l2),
        name="decoder",
    )
    if attention == "luong":
        attend = keras.layers.Attention(score_mode="dot", name="attention")
    elif attention == "bahdanau":
        attend = keras.layers.AdditiveAttention(name="attention")
    combine = keras.layers.Dense(decoder_units, activation="tanh", name="attention_combine")
    project = keras.layers.Dense(
        target_vocabulary_size, activation="softmax", dtype="float32", name="next_token"
    )

    def decode(token_ids, sources, outputs_of_encoder, initial_states):
        embedded = target_embedding(token_ids)
        results = decoder_rnn(embedded, initial_state=initial_states)
        sequence, new_states = results[0], list(results[1:])
        if attention:
            source_mask = keras.ops.not_equal(sources, 0)
            context = attend([sequence, outputs_of_encoder], mask=[None, source_mask])
            sequence = combine(keras.layers.Concatenate()([sequence, context]))
        return project(sequence), new_states

    decoder_input_ids = keras.Input((None,), dtype="int64", name="decoder_input_ids")
    probabilities, _ = decode(decoder_input_ids, source_ids, encoder_outputs, states)
    training = keras.Model([source_ids, decoder_input_ids], probabilities, name=name)

    step_tokens = keras.Input((1,), dtype="int64", name="token_ids")
    step_sources = keras.Input((None,), dtype="int64", name="step_source_ids")
    step_encoder_outputs = keras.Input((None, decoder_units), name="encoder_outputs")
    step_states = [keras.Input((decoder_units,), name=f"state_{i}") for i in range(state_count)]
    step_probabilities, new_states = decode(
        step_tokens, step_sources, step_encoder_outputs, step_states
    )
    step_probabilities = keras.ops.squeeze(step_probabilities, axis=1)
    decoder_step = keras.Model(
        [step_tokens, step_sources, step_encoder_outputs, *step_states],
        [step_probabilities, *new_states],
        name=f"{name}_decoder_step",
    )
    return Seq2Seq(training, encoder, decoder_step, state_count)
