"""The one encoder-decoder builder, shared by translation and captioning.

An encoder (whatever it reads: source ids, an image) produces a *context*
(tensors the decoder reads at every step) and the decoder's first *states*.
`RecurrentDecoder` holds the decoder's layers, built once: target-word
embedding, our LSTM or GRU, optional attention over an encoder memory, and
the softmax over the vocabulary. `encoder_decoder` calls it twice to make
three Keras models that share every layer:

- ``training``: ``(encoder_input, decoder_input_ids) -> probabilities``
  (teacher forcing: the decoder reads the reference shifted right);
- ``encoder``: ``encoder_input -> (*context, *states)``;
- ``decoder_step``: ``(token_ids [b, 1], *context, *states) ->
  (probabilities [b, vocabulary], *new_states)``, which the decoding loops
  of `models.decoding` call once per generated token.

A task says how its context reaches the decoder by overriding
`RecurrentDecoder.decoder_inputs` (what the RNN reads besides the words) and
`RecurrentDecoder.attention_memory` (what attention looks at, and its mask).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras

from common.recurrent import GATED_CELL_NAMES
from common.validation import check_positive_int
from models.recurrent import RECURRENT_LAYERS, RecurrentSpec, weight_regularizer

ATTENTION = (None, "luong", "bahdanau")


@dataclasses.dataclass(frozen=True)
class Seq2Seq:
    """The three models of an encoder-decoder, sharing their layers.

    Attributes:
        training: Teacher-forced model for `fit`.
        encoder: Encoder input to ``[*context, *states]``.
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


class RecurrentDecoder:
    """The layers of a recurrent decoder, built once and called on any inputs.

    Calling it runs ``token_ids -> embedding -> [decoder_inputs] -> LSTM/GRU
    -> [attention over attention_memory, combined] -> softmax``.

    Args:
        recurrent: The decoder cell (``lstm`` or ``gru``), dropout, recurrent
            dropout and L1/L2 penalties; its ``layers``/``bidirectional``
            describe an encoder and do not apply here.
        units: Decoder units (the size of each state).
        vocabulary_size: Size of the target id space.
        embedding_dim: Size of the target word vectors.
        attention: None, ``"luong"`` (dot product) or ``"bahdanau"`` (additive).
        decoder_name: How error messages call this decoder (``"An
            encoder-decoder"``).
        embedding_name: Name of the embedding layer.
        output_name: Name of the softmax layer.

    Raises:
        ValueError: On a bad argument; a ``simple_rnn`` cell is refused (the
            decoder needs a gated cell to carry its state).
    """

    def __init__(
        self,
        recurrent: RecurrentSpec,
        units: int,
        vocabulary_size: int,
        embedding_dim: int,
        attention: str | None,
        *,
        decoder_name: str = "A decoder",
        embedding_name: str = "target_embedding",
        output_name: str = "next_token",
    ):
        self.check_cell(recurrent.cell, decoder_name)
        self.units = check_positive_int("units", units)
        check_positive_int("vocabulary_size", vocabulary_size)
        check_positive_int("embedding_dim", embedding_dim)
        check_attention(attention)
        self.attention = attention
        self.embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, mask_zero=True, name=embedding_name
        )
        self.rnn = RECURRENT_LAYERS[recurrent.cell](
            units,
            return_sequences=True,
            return_state=True,
            dropout=recurrent.dropout,
            recurrent_dropout=recurrent.recurrent_dropout,
            kernel_regularizer=weight_regularizer(recurrent.l1, recurrent.l2),
            recurrent_regularizer=weight_regularizer(recurrent.l1, recurrent.l2),
            name="decoder",
        )
        self.state_count = len(keras.tree.flatten(self.rnn.cell.state_size))
        if attention == "luong":
            self.attend = keras.layers.Attention(score_mode="dot", name="attention")
        elif attention == "bahdanau":
            self.attend = keras.layers.AdditiveAttention(name="attention")
        self.combine = keras.layers.Dense(units, activation="tanh", name="attention_combine")
        self.project = keras.layers.Dense(
            vocabulary_size, activation="softmax", dtype="float32", name=output_name
        )

    @staticmethod
    def check_cell(cell: str, decoder_name: str = "A decoder") -> str:
        """Returns ``cell`` if it is gated (``lstm`` or ``gru``): a decoder carries its state.

        Raises:
            ValueError: Otherwise, naming the decoder and the cells it takes.
        """
        if cell not in GATED_CELL_NAMES:
            raise ValueError(
                f"Invalid value for argument `cell`. {decoder_name} takes one of "
                f"{list(GATED_CELL_NAMES)}. Received cell={cell!r}."
            )
        return cell

    def decoder_inputs(self, words, context: Sequence):
        """What the RNN reads at each step: by default the embedded words only."""
        return words

    def attention_memory(self, context: Sequence):
        """``(memory [b, positions, units], mask or None)``: by default the last context entry."""
        return context[-1], None

    def __call__(self, token_ids, context: Sequence, states: Sequence):
        """Decodes ``token_ids`` from ``states``; returns ``(probabilities, new_states)``."""
        words = self.embedding(token_ids)
        results = self.rnn(self.decoder_inputs(words, context), initial_state=list(states))
        sequence, new_states = results[0], list(results[1:])
        if self.attention:
            memory, memory_mask = self.attention_memory(context)
            # no mask given: Keras takes the masks the inputs carry (the words')
            mask = None if memory_mask is None else [None, memory_mask]
            looked_at = self.attend([sequence, memory], mask=mask)
            sequence = self.combine(keras.layers.Concatenate()([sequence, looked_at]))
        return self.project(sequence), new_states


def encoder_decoder(
    decoder: RecurrentDecoder,
    encoder_input,
    context: Sequence,
    states: Sequence,
    step_context: Sequence,
    name: str,
) -> Seq2Seq:
    """Builds the three models of an encoder-decoder around one `RecurrentDecoder`.

    Args:
        decoder: The decoder's layers.
        encoder_input: The encoder's `keras.Input`.
        context: Tensors computed from ``encoder_input`` that the decoder
            reads at every step.
        states: The decoder's first states, computed from ``encoder_input``
            (``decoder.state_count`` tensors of ``decoder.units``).
        step_context: One `keras.Input` per ``context`` entry, same shapes:
            the decoder step's inputs.
        name: Name of the training model, prefix of the other two.

    Returns:
        A `Seq2Seq`; compile ``training`` before fitting.

    Raises:
        ValueError: If the counts of states or step inputs do not match.
    """
    if len(states) != decoder.state_count or len(step_context) != len(context):
        raise ValueError(
            f"Invalid encoder outputs for {name!r}: expected {decoder.state_count} states and "
            f"one step input per context tensor ({len(context)}). Received {len(states)} states "
            f"and {len(step_context)} step inputs."
        )
    encoder = keras.Model(encoder_input, [*context, *states], name=f"{name}_encoder")

    decoder_input_ids = keras.Input((None,), dtype="int64", name="decoder_input_ids")
    probabilities, _ = decoder(decoder_input_ids, context, states)
    training = keras.Model([encoder_input, decoder_input_ids], probabilities, name=name)

    step_tokens = keras.Input((1,), dtype="int64", name="token_ids")
    step_states = [
        keras.Input((decoder.units,), name=f"state_{i}") for i in range(decoder.state_count)
    ]
    step_probabilities, new_states = decoder(step_tokens, step_context, step_states)
    decoder_step = keras.Model(
        [step_tokens, *step_context, *step_states],
        [keras.ops.squeeze(step_probabilities, axis=1), *new_states],
        name=f"{name}_decoder_step",
    )
    return Seq2Seq(training, encoder, decoder_step, decoder.state_count)
