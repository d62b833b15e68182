"""LFW-style verification scores against scikit-learn and hand-worked cases."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sklearn_roc_curve

from pipelines.face_verification import (
    best_threshold,
    cosine_scores,
    drawn_pairs,
    roc_auc,
    roc_curve,
    tar_at_far,
    ten_fold_accuracy,
)


def _pairs(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    same = rng.random(n) < 0.5
    scores = np.round(rng.normal(np.where(same, 0.6, 0.2), 0.15), 2)  # rounded: ties
    return scores, same


def test_roc_and_its_area_match_scikit_learn_with_ties():
    scores, same = _pairs()
    far, tar, thresholds = roc_curve(scores, same)
    expected_far, expected_tar, expected_thresholds = sklearn_roc_curve(
        same, scores, drop_intermediate=False
    )
    np.testing.assert_allclose(far, expected_far)
    np.testing.assert_allclose(tar, expected_tar)
    np.testing.assert_allclose(thresholds[1:], expected_thresholds[1:])
    assert roc_auc(scores, same) == pytest.approx(roc_auc_score(same, scores), abs=1e-12)


def test_tar_at_far_takes_the_lowest_threshold_within_the_false_accept_rate():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    same = np.array([1, 1, 0, 1, 1, 0, 1, 0, 0, 0], bool)
    # 5 different-person pairs: FAR 0.2 allows 1 (0.7); at 0.4 a second comes in
    assert tar_at_far(scores, same, 0.2) == pytest.approx(4 / 5)
    assert tar_at_far(scores, same, 0.1) == pytest.approx(2 / 5)
    assert tar_at_far(scores, same, 0.4) == pytest.approx(5 / 5)
    with pytest.raises(ValueError, match="far=1.5"):
        tar_at_far(scores, same, 1.5)


def test_the_best_threshold_is_the_most_accurate_cut():
    scores, same = _pairs(400, seed=3)
    threshold = best_threshold(scores, same)
    accuracy = np.mean((scores > threshold) == same)
    for cut in np.unique(scores):
        assert np.mean((scores > cut) == same) <= accuracy + 1e-12
    assert best_threshold([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == pytest.approx(0.5)


def test_ten_folds_judge_each_fold_with_the_others_threshold():
    scores, same = _pairs(3000, seed=1)
    folds = np.arange(3000) % 10
    result = ten_fold_accuracy(scores, same, folds)
    by_hand = []
    for fold in range(10):
        held = folds == fold
        cut = best_threshold(scores[~held], same[~held])
        by_hand.append(np.mean((scores[held] > cut) == same[held]))
    assert result["accuracy"] == pytest.approx(np.mean(by_hand))
    assert result["accuracy_std"] == pytest.approx(np.std(by_hand))
    # two normals 0.4 apart, sd 0.15: the best accuracy is Phi(0.2 / 0.15) = 0.909
    assert 0.89 < result["accuracy"] < 0.93 and 0.35 < result["threshold"] < 0.45
    with pytest.raises(ValueError, match="at least 2 folds"):
        ten_fold_accuracy(scores, same, np.zeros(3000))
    with pytest.raises(ValueError, match="both same-person and different-person"):
        ten_fold_accuracy(scores, np.ones(3000, bool), folds)


def test_cosine_scores_compare_rows():
    first = np.array([[1.0, 0.0], [3.0, 4.0], [0.0, 2.0]])
    second = np.array([[2.0, 0.0], [-3.0, -4.0], [1.0, 0.0]])
    np.testing.assert_allclose(cosine_scores(first, second), [1.0, -1.0, 0.0])


def test_drawn_pairs_are_half_same_person_in_each_fold():
    labels = np.array([0, 0, 0, 1, 2, 2, 3])  # person 1 and 3: one photo each
    first, second, same, folds = drawn_pairs(labels, pairs_per_fold=50, folds=4, seed=0)
    assert len(first) == 400 and np.array_equal(np.bincount(folds), [100] * 4)
    assert np.array_equal(labels[first] == labels[second], same) and same.mean() == 0.5
    assert np.all(first[same] != second[same])  # two photos, not one twice
    assert set(labels[first[same]]) == {0, 2} and {1, 3} <= set(labels[first[~same]])
    with pytest.raises(ValueError, match="4 people, 0 with two photos"):
        drawn_pairs([0, 1, 2, 3])
