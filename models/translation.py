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

import keras

from common.validation import check_positive_int
from models.encoder_decoder import (
    ATTENTION,
    RecurrentDecoder,
    Seq2Seq,
    check_attention,
    encoder_decoder,
)
from models.recurrent import RecurrentSpec

__all__ = ["ATTENTION", "Seq2Seq", "check_attention", "seq2seq"]


class _TranslationDecoder(RecurrentDecoder):
    """Attends over the encoder outputs, masking the source's padding (id 0)."""

    def attention_memory(self, context):
        source_ids, encoder_outputs = context
        return encoder_outputs, keras.ops.not_equal(source_ids, 0)


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
    RecurrentDecoder.check_cell(recurrent.cell, "An encoder-decoder")
    source_ids = keras.Input((None,), dtype="int64", name="source_ids")
    source_embedding = keras.layers.Embedding(
        source_vocabulary_size, embedding_dim, mask_zero=True, name="source_embedding"
    )
    encoder_outputs, states = _encoder_states(recurrent, source_embedding(source_ids))
    decoder = _TranslationDecoder(
        recurrent,
        recurrent.output_units,
        target_vocabulary_size,
        embedding_dim,
        attention,
        decoder_name="An encoder-decoder",
        embedding_name="target_embedding",
        output_name="next_token",
    )
    step_context = [
        keras.Input((None,), dtype="int64", name="step_source_ids"),
        keras.Input((None, decoder.units), name="encoder_outputs"),
    ]
    return encoder_decoder(
        decoder, source_ids, [source_ids, encoder_outputs], states, step_context, name
    )
