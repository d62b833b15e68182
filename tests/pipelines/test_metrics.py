import numpy as np
import pytest

from pipelines.metrics import (
    edit_distance,
    forecast_errors,
    naive_forecast,
    retrieval_scores,
    text_recognition_scores,
    token_accuracy,
)


def test_token_accuracy_counts_tokens_not_sentences():
    true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    predicted = [["B-PER", "O", "O", "B-LOC"], ["B-PER", "O"]]
    assert token_accuracy(true, predicted) == pytest.approx(4 / 6)
    assert token_accuracy([], []) == 0.0


def test_forecast_errors_and_naive_baselines():
    assert forecast_errors(np.array([[1.0, 2.0]]), np.array([[2.0, 0.0]])) == {
        "mae": 1.5,
        "rmse": pytest.approx(np.sqrt(2.5)),
    }
    inputs = np.arange(12, dtype=float).reshape(1, 12, 1)
    np.testing.assert_array_equal(naive_forecast(inputs, 3), [[11, 11, 11]])


def test_corpus_bleu_matches_hand_computed_values():
    from pipelines.metrics import corpus_bleu

    reference = "the cat is on the mat".split()
    assert corpus_bleu([[reference]], [reference]) == pytest.approx(1.0)
    # "the the the the": unigram precision clipped to 2/4 (the reference has two "the")
    assert corpus_bleu([[reference]], [["the"] * 4], max_order=1) == pytest.approx(
        0.5 * np.exp(1 - 6 / 4)
    )
    # BLEU-2 of a 4-word hypothesis: p1 = 4/4, p2 = 2/3, brevity exp(1 - 6/4)
    hypothesis = "the cat on the".split()
    expected = np.exp(1 - 6 / 4) * np.sqrt(1.0 * 2 / 3)
    assert corpus_bleu([[reference]], [hypothesis], max_order=2) == pytest.approx(expected)
    # the closest reference length sets the brevity penalty; no 4-gram match gives 0
    assert corpus_bleu([[reference, "the cat".split()]], [["the", "cat"]], max_order=2) == 1.0
    assert corpus_bleu([[reference]], [hypothesis]) == 0.0


def test_retrieval_scores_by_hand():
    catalog = np.array([0, 0, 0, 1, 1, 2])  # three 0s, two 1s, one 2
    found = np.array([[0, 1, 0], [1, 1, 0], [2, 0, 0]])
    scores = retrieval_scores(found, np.array([0, 1, 1]), catalog)
    # precision: 2/3, 2/3, 0
    assert scores["precision_at_k"] == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)
    # recall: 2 of 3 zeros, 2 of 2 ones, 0 of 2 ones
    assert scores["recall_at_k"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    # AP@3: (1 + 2/3) / min(3, 3); (1 + 1) / min(3, 2); 0
    assert scores["map_at_k"] == pytest.approx(((1 + 2 / 3) / 3 + 1 + 0) / 3)
    perfect = retrieval_scores(np.array([[2, 0, 1]]), np.array([2]), catalog)
    assert (
        perfect["map_at_k"] == 1.0 and perfect["recall_at_k"] == 1.0
    )  # its one right answer first


@pytest.mark.parametrize(
    ("first", "second", "distance"),
    [
        ("", "", 0),
        ("", "abc", 3),
        ("kitten", "sitting", 3),  # k->s, e->i, +g
        ("AB12 CDE", "AB12 CDE", 0),
        ("AB12 CDE", "A812 CD", 2),  # B->8, -E
        ("flaw", "lawn", 2),  # -f, +n
    ],
)
def test_edit_distance_against_hand_counted_edits(first, second, distance):
    assert edit_distance(first, second) == distance
    assert edit_distance(second, first) == distance


def test_text_recognition_scores_count_characters_not_texts():
    scores = text_recognition_scores(
        ["AB12 CDE", "A812 CD", "7ABC123"], ["AB12 CDE"] * 2 + ["7ABC123"]
    )
    assert scores["cer"] == pytest.approx(2 / 23)  # 2 edits over 8 + 8 + 7 characters
    assert scores["accuracy"] == pytest.approx(2 / 3)
    assert text_recognition_scores(["abcabc"], ["abc"])["cer"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="2 read and 1 true"):
        text_recognition_scores(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no character"):
        text_recognition_scores([""], [""])


def test_speech_scores_equal_jiwer_on_the_same_transcripts():
    import jiwer

    from pipelines.metrics import speech_recognition_scores

    rng = np.random.default_rng(0)
    words = ["zero", "one", "two", "three", "four"]
    said = [" ".join(rng.choice(words, rng.integers(3, 8))) for _ in range(40)]
    heard = []
    for text in said:  # drop, swap and insert words at random
        kept = [w for w in text.split() if rng.random() > 0.15]
        kept = [rng.choice(words) if rng.random() < 0.1 else w for w in kept]
        if rng.random() < 0.2:
            kept.insert(int(rng.integers(len(kept) + 1)), str(rng.choice(words)))
        heard.append(" ".join(kept))
    scores = speech_recognition_scores(heard, said)
    assert scores["wer"] == pytest.approx(jiwer.wer(said, heard))
    assert scores["cer"] == pytest.approx(jiwer.cer(said, heard))
    assert scores["accuracy"] == pytest.approx(np.mean([h == s for h, s in zip(heard, said)]))
    assert 0.1 < scores["wer"] < 0.6
