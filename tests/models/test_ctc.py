"""CTC decoding against hand-worked paths, and the label-length check."""

import numpy as np
import pytest
import tensorflow as tf

from models.ctc import (
    BLANK,
    check_label_lengths,
    columns_needed,
    ctc_decode,
    ids_to_text,
)


def logits_of_paths(paths, classes, high=0.9):
    """Logits whose most likely id per column follows each path (prob ``high`` there)."""
    probabilities = np.full((len(paths), len(paths[0]), classes), (1 - high) / (classes - 1))
    for row, path in enumerate(paths):
        probabilities[row, np.arange(len(path)), path] = high
    return np.log(probabilities).astype(np.float32)


def test_greedy_decoding_merges_repeats_and_drops_blanks():
    # ids: 0 blank, 1 "a", 2 "b"
    paths = [
        [1, 1, BLANK, 1, 2, 2],  # a a - a b b -> "aab": the blank keeps the two a's apart
        [BLANK, 1, BLANK, BLANK, 2, BLANK],  # - a - - b - -> "ab"
        [BLANK] * 6,  # nothing
        [2, 2, 2, 2, 2, 2],  # one long b -> "b"
    ]
    ids, confidence = ctc_decode(logits_of_paths(paths, 3))
    assert ids.shape == (4, 6)
    assert ids_to_text(ids, "ab").numpy().tolist() == [b"aab", b"ab", b"", b"b"]
    np.testing.assert_array_equal(ids.numpy()[0], [1, 1, 2, -1, -1, -1])
    # the product of the chosen columns' probabilities: 0.9 ** 6
    np.testing.assert_allclose(confidence.numpy(), 0.9**6, rtol=1e-5)


def test_greedy_decoding_reads_only_each_rows_columns():
    paths = [[1, BLANK, 2, 2], [1, BLANK, 2, 1]]
    ids, _ = ctc_decode(logits_of_paths(paths, 3), lengths=[4, 2])
    assert ids_to_text(ids, "ab").numpy().tolist() == [b"ab", b"a"]


def test_beam_search_sums_the_paths_of_a_text_where_greedy_takes_one_path():
    # two columns over (blank, a): each column blank 0.6, a 0.4.
    # greedy: blank blank -> "" (0.36). Text "a" has three paths: a-, -a, aa:
    # 0.24 + 0.24 + 0.16 = 0.64 > 0.36, so beam search reads "a".
    logits = np.log(np.array([[[0.6, 0.4], [0.6, 0.4]]], np.float32))
    greedy, greedy_confidence = ctc_decode(logits)
    beam, beam_confidence = ctc_decode(logits, strategy="beam_search", beam_width=4)
    assert ids_to_text(greedy, "a").numpy().tolist() == [b""]
    assert ids_to_text(beam, "a").numpy().tolist() == [b"a"]
    np.testing.assert_allclose(greedy_confidence.numpy(), [0.36], rtol=1e-5)
    np.testing.assert_allclose(beam_confidence.numpy(), [0.64], rtol=1e-5)


def test_decoding_runs_inside_a_traced_function_with_unknown_shapes():
    @tf.function(input_signature=[tf.TensorSpec([None, None, 3], tf.float32)])
    def read(logits):
        ids, confidence = ctc_decode(logits, strategy="beam_search", beam_width=3)
        return ids_to_text(ids, "xy"), confidence

    texts, confidence = read(logits_of_paths([[2, BLANK, 2, 1, 1]], 3))
    assert texts.numpy().tolist() == [b"yyx"]
    assert 0 < float(confidence[0]) <= 1


def test_bad_decoding_arguments_are_named():
    logits = logits_of_paths([[1, 2]], 3)
    with pytest.raises(ValueError, match="strategy='viterbi'"):
        ctc_decode(logits, strategy="viterbi")
    with pytest.raises(ValueError, match="beam_width=0"):
        ctc_decode(logits, strategy="beam_search", beam_width=0)
    with pytest.raises(ValueError, match="alphabet"):
        ids_to_text(tf.constant([[1]]), "")


def test_columns_needed_counts_a_blank_between_equal_neighbours():
    assert columns_needed("") == 0
    assert columns_needed("AB12 CDE") == 8
    assert columns_needed("hello") == 6  # h e l - l o
    assert columns_needed("aaa") == 5  # a - a - a


def test_a_label_longer_than_the_columns_is_refused_with_the_numbers():
    check_label_lengths(["AB12 CDE", "hello"], columns=8)
    with pytest.raises(
        ValueError,
        match=r"Label 'aaaa' needs 7 output columns .* reads 6 columns at an image "
        r"width of 24 px",
    ):
        check_label_lengths(["ab", "aaaa"], columns=6, width=24)
