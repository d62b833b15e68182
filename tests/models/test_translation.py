import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.decoding import beam_search_decode, greedy_decode
from models.recurrent import RecurrentSpec
from models.translation import seq2seq

PAD, START, END = 0, 1, 2


def ids(rows):
    return tf.constant(rows, tf.int64)


@pytest.mark.parametrize("attention", [None, "luong", "bahdanau"])
@pytest.mark.parametrize(("cell", "bidirectional"), [("lstm", False), ("gru", True)])
def test_one_decoder_step_equals_the_first_teacher_forced_position(attention, cell, bidirectional):
    keras.utils.set_random_seed(0)
    model = seq2seq(
        20,
        30,
        embedding_dim=8,
        attention=attention,
        recurrent=RecurrentSpec(cell=cell, units=6, bidirectional=bidirectional),
    )
    source = ids([[3, 4, 5, 0], [6, 7, 0, 0]])
    forced = model.training([source, ids([[START, 8, 9], [START, 10, 0]])]).numpy()
    assert forced.shape == (2, 3, 30)
    encoded = model.encoder(source)
    np.testing.assert_array_equal(encoded[0].numpy(), source.numpy())
    step = model.decoder_step([ids([[START], [START]]), *encoded])
    np.testing.assert_allclose(step[0].numpy(), forced[:, 0], atol=1e-6)
    assert len(step) == 1 + model.state_count == len(encoded) - 1


def test_source_padding_changes_nothing():
    keras.utils.set_random_seed(1)
    model = seq2seq(
        20,
        30,
        embedding_dim=8,
        attention="luong",
        recurrent=RecurrentSpec(units=6, bidirectional=True),
    )
    decoder_inputs = ids([[START, 8, 9]])
    short = model.training([ids([[3, 4, 5]]), decoder_inputs]).numpy()
    padded = model.training([ids([[3, 4, 5, 0, 0]]), decoder_inputs]).numpy()
    np.testing.assert_allclose(short, padded, atol=1e-6)


def sequence_log_probability(model, source, tokens):
    decoder_inputs = ids([[START, *tokens[:-1]]])
    probabilities = model.training([source, decoder_inputs]).numpy()[0]
    total, ended = 0.0, False
    for position, token in enumerate(tokens):
        if ended:
            assert token == PAD
            continue
        total += np.log(max(probabilities[position, token], 1e-12))
        ended = token == END
    return total


def test_exhaustive_beam_search_finds_the_most_probable_sequence():
    keras.utils.set_random_seed(2)
    vocabulary, length = 5, 3
    model = seq2seq(10, vocabulary, embedding_dim=4, recurrent=RecurrentSpec("gru", 5))
    source = ids([[3, 4, 5]])
    candidates = []
    for tokens in itertools.product(range(vocabulary), repeat=length):
        if END in tokens:
            end = tokens.index(END)
            if any(t != PAD for t in tokens[end + 1 :]):
                continue
        candidates.append(tokens)
    scores = {c: sequence_log_probability(model, source, list(c)) for c in candidates}
    best = max(scores, key=scores.get)
    found = beam_search_decode(
        model, source, start_id=START, end_id=END, max_length=length, beam_width=25
    ).numpy()[0]
    assert tuple(found) == best
    greedy = greedy_decode(model, source, start_id=START, end_id=END, max_length=length)
    assert scores[tuple(greedy.numpy()[0])] <= scores[best]


def test_beam_width_one_is_greedy_and_both_trace():
    keras.utils.set_random_seed(3)
    model = seq2seq(10, 12, embedding_dim=4, recurrent=RecurrentSpec(units=5), attention="luong")
    source = ids([[3, 4, 5, 6], [7, 8, 0, 0]])

    @tf.function(input_signature=[tf.TensorSpec((None, None), tf.int64)])
    def decode(source_ids):
        return (
            greedy_decode(model, source_ids, start_id=START, end_id=END, max_length=6),
            beam_search_decode(
                model, source_ids, start_id=START, end_id=END, max_length=6, beam_width=1
            ),
        )

    greedy, beam = decode(source)
    assert greedy.shape == (2, 6)
    np.testing.assert_array_equal(greedy.numpy(), beam.numpy())


def test_a_trained_model_reverses_sequences_and_stops_at_the_end_token():
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(4)
    sources, decoder_inputs, targets = [], [], []
    for _ in range(1500):
        length = rng.integers(2, 6)
        tokens = rng.integers(3, 9, size=length).tolist()
        reversed_tokens = tokens[::-1] + [END]
        pad = 6 - len(reversed_tokens)
        sources.append(tokens + [PAD] * (5 - length))
        decoder_inputs.append([START, *reversed_tokens[:-1]] + [PAD] * pad)
        targets.append(reversed_tokens + [PAD] * pad)
    sources, decoder_inputs, targets = map(np.array, (sources, decoder_inputs, targets))
    model = seq2seq(10, 10, embedding_dim=16, recurrent=RecurrentSpec("gru", 32), attention="luong")
    model.training.compile(
        optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy"
    )
    model.training.fit(
        [sources, decoder_inputs],
        targets,
        sample_weight=(targets > 0) | (np.arange(6) == 0),
        batch_size=64,
        epochs=12,
        verbose=0,
    )
    test = ids([[3, 4, 5, 0, 0], [8, 7, 6, 5, 4]])
    decoded = beam_search_decode(
        model, test, start_id=START, end_id=END, max_length=7, beam_width=3
    ).numpy()
    assert decoded.tolist() == [[5, 4, 3, END, 0, 0, 0], [4, 5, 6, 7, 8, END, 0]]


def test_bad_arguments():
    with pytest.raises(ValueError, match="Received attention='dot'"):
        seq2seq(10, 10, attention="dot")
    with pytest.raises(ValueError, match="Received cell='simple_rnn'"):
        seq2seq(10, 10, recurrent=RecurrentSpec("simple_rnn"))
    model = seq2seq(10, 10, recurrent=RecurrentSpec(units=4))
    with pytest.raises(ValueError, match="Received beam_width=0"):
        beam_search_decode(model, ids([[3]]), start_id=1, end_id=2, max_length=3, beam_width=0)
