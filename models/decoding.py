"""Decoding loops for encoder-decoders: greedy and beam search, in TensorFlow ops.

They work with any object shaped like `models.translation.Seq2Seq`: an
``encoder`` mapping the source (token ids, or images for captioning) to
``[*context, *states]`` and a ``decoder_step`` mapping ``[token_ids [b, 1],
*context, *states]`` to ``[probabilities [b, vocabulary], *new_states]``,
with ``state_count`` states.

Both run as `tf.while_loop`s inside a `tf.function`, so they can ship inside
an exported SavedModel; trace them with an unknown batch size
(``tf.TensorSpec((None, None), tf.int64)``), as beam search reshapes by it.
They return token ids ``[batch, max_length]``: the generated tokens up to
and including the end token, 0 (padding) after it.
"""

from __future__ import annotations

import tensorflow as tf

from common.validation import check_positive_int


def _encode(model, sources):
    """``(context, states)``: what every step reads, and the first decoder states."""
    encoded = list(model.encoder(sources, training=False))
    split = len(encoded) - model.state_count
    return encoded[:split], encoded[split:]


def greedy_decode(model, sources, *, start_id: int, end_id: int, max_length: int):
    """Picks the most probable next token at every step.

    Args:
        model: A `models.translation.Seq2Seq` or alike.
        sources: What the encoder takes, e.g. ``int64 [batch, source_length]``.
        start_id: Id of the start token fed first.
        end_id: Id of the end token; a sequence stops after it.
        max_length: Most tokens generated per sequence.

    Returns:
        ``int64 [batch, max_length]`` token ids.
    """
    check_positive_int("max_length", max_length)
    context, states = _encode(model, sources)
    batch = tf.shape(context[0])[0]
    tokens = tf.fill([batch, 1], tf.constant(start_id, tf.int64))
    finished = tf.zeros([batch], tf.bool)
    generated = tf.TensorArray(tf.int64, size=max_length)
    for step in tf.range(max_length):
        results = model.decoder_step([tokens, *context, *states], training=False)
        probabilities, states = results[0], list(results[1:])
        next_token = tf.argmax(probabilities, axis=-1, output_type=tf.int64)
        next_token = tf.where(finished, tf.zeros_like(next_token), next_token)
        generated = generated.write(step, next_token)
        finished = finished | tf.equal(next_token, end_id)
        tokens = next_token[:, tf.newaxis]
    return tf.transpose(generated.stack())


def beam_search_decode(
    model, sources, *, start_id: int, end_id: int, max_length: int, beam_width: int = 4
):
    """Keeps the ``beam_width`` most probable partial sequences at every step.

    A finished beam (one that produced the end token) keeps its score and
    only extends with padding. The result is the highest-scoring beam by
    total log-probability; ``beam_width=1`` equals `greedy_decode`.

    Args:
        model: A `models.translation.Seq2Seq` or alike.
        sources: What the encoder takes, e.g. ``int64 [batch, source_length]``.
        start_id: Id of the start token.
        end_id: Id of the end token.
        max_length: Most tokens generated per sequence.
        beam_width: Beams kept per sequence.

    Returns:
        ``int64 [batch, max_length]`` token ids of the best beam.
    """
    check_positive_int("max_length", max_length)
    check_positive_int("beam_width", beam_width)
    k = beam_width
    context, states = _encode(model, sources)
    batch = tf.shape(context[0])[0]
    # every beam of a sequence starts from the same encoding: [batch * k, ...]
    context = [tf.repeat(tensor, k, axis=0) for tensor in context]
    states = [tf.repeat(state, k, axis=0) for state in states]
    # only beam 0 is live at first, so the k beams do not start as copies
    scores = tf.tile(tf.concat([[0.0], tf.fill([k - 1], -1e9)], 0)[tf.newaxis], [batch, 1])
    finished = tf.zeros([batch, k], tf.bool)
    history = tf.zeros([batch, k, max_length], tf.int64)
    tokens = tf.fill([batch * k, 1], tf.constant(start_id, tf.int64))
    positions = tf.range(max_length)
    for step in tf.range(max_length):
        results = model.decoder_step([tokens, *context, *states], training=False)
        probabilities, new_states = results[0], list(results[1:])
        vocabulary = tf.shape(probabilities)[-1]
        log_probabilities = tf.math.log(tf.maximum(probabilities, 1e-12))
        log_probabilities = tf.reshape(log_probabilities, [batch, k, vocabulary])
        # a finished beam continues only with padding, at no cost
        pad_only = tf.concat(
            [tf.zeros([batch, k, 1]), tf.fill([batch, k, vocabulary - 1], -1e9)], axis=-1
        )
        log_probabilities = tf.where(finished[..., tf.newaxis], pad_only, log_probabilities)
        candidates = tf.reshape(scores[..., tf.newaxis] + log_probabilities, [batch, -1])
        scores, best = tf.math.top_k(candidates, k=k)
        beam = tf.cast(best // vocabulary, tf.int32)
        token = tf.cast(best % vocabulary, tf.int64)
        history = tf.gather(history, beam, batch_dims=1)
        history = tf.where(positions == step, token[..., tf.newaxis], history)
        finished = tf.gather(finished, beam, batch_dims=1) | tf.equal(token, end_id)
        flat_beam = tf.reshape(beam + tf.range(batch)[:, tf.newaxis] * k, [-1])
        states = [tf.gather(state, flat_beam) for state in new_states]
        tokens = tf.reshape(token, [-1, 1])
    return history[:, 0]
