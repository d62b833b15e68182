"""Face verification scored the way LFW's protocol scores it, from pair similarities.

A pair of photos is "same person" when the cosine similarity of their
embeddings is above a threshold. `ten_fold_accuracy` is LFW's protocol: for
each of 10 folds, the threshold that is most accurate on the other 9 folds
is applied to it, and the 10 accuracies are averaged. `roc_curve` and
`roc_auc` score every threshold at once, and `tar_at_far` gives the share
of same-person pairs accepted at the threshold that accepts at most a given
share of different-person pairs (the false-accept rate, FAR).
"""

from __future__ import annotations

import numpy as np

from common.validation import check_fraction, check_positive_int


def _scored_pairs(scores, same) -> tuple[np.ndarray, np.ndarray]:
    scores, same = np.asarray(scores, np.float64), np.asarray(same, bool)
    if scores.ndim != 1 or scores.shape != same.shape:
        raise ValueError(
            "Invalid values for arguments `scores` and `same`. Expected two 1-D arrays of one "
            f"length. Received shapes {scores.shape} and {same.shape}."
        )
    if not same.any() or same.all():
        raise ValueError(
            "Invalid value for argument `same`. Expected both same-person and different-person "
            f"pairs. Received {int(same.sum())} same-person pairs of {same.size}."
        )
    return scores, same


def drawn_pairs(
    labels, pairs_per_fold: int = 300, folds: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of labelled photos in LFW's shape: each fold half same-person, half not.

    Unlike LFW's folds, these are drawn with replacement from all the people
    (a pair may repeat, a person may be in several folds).

    Args:
        labels: The person in each photo.
        pairs_per_fold: Same-person pairs of each fold, and as many different-person ones.
        folds: Folds to draw.
        seed: Seed of the draw.

    Returns:
        ``(first rows, second rows, same, folds)``, ``folds * 2 * pairs_per_fold`` long.

    Raises:
        ValueError: If no person has two photos, or there is only one person.
    """
    check_positive_int("pairs_per_fold", pairs_per_fold)
    check_positive_int("folds", folds)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    people, counts = np.unique(labels, return_counts=True)
    repeated = people[counts >= 2]
    if not len(repeated) or len(people) < 2:
        raise ValueError(
            f"Invalid value for argument `labels`: {len(people)} people, {len(repeated)} with "
            "two photos or more. Same-person pairs need people with two photos, and "
            "different-person pairs two people."
        )
    rows_of = {person: np.flatnonzero(labels == person) for person in people}
    first, second, same = [], [], []
    for _ in range(folds):
        for matched in (True, False):
            for _ in range(pairs_per_fold):
                if matched:
                    a, b = rng.choice(rows_of[rng.choice(repeated)], 2, replace=False)
                else:
                    one, other = rng.choice(people, 2, replace=False)
                    a, b = rng.choice(rows_of[one]), rng.choice(rows_of[other])
                first.append(a)
                second.append(b)
                same.append(matched)
    fold_of = np.repeat(np.arange(folds), 2 * pairs_per_fold)
    return np.asarray(first), np.asarray(second), np.asarray(same), fold_of


def cosine_scores(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of ``first`` with the same row of ``second``.

    Raises:
        ValueError: If the two are not 2-D arrays of one shape.
    """
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    if first.ndim != 2 or first.shape != second.shape:
        raise ValueError(
            "Invalid values for arguments `first` and `second`. Expected two [pairs, dimension] "
            f"arrays of one shape. Received shapes {first.shape} and {second.shape}."
        )
    norms = np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1)
    return np.sum(first * second, axis=1) / np.maximum(norms, 1e-12)


def best_threshold(scores, same) -> float:
    """The threshold (accept when score > threshold) with the highest accuracy on these pairs.

    Args:
        scores: Similarity of each pair.
        same: Whether each pair shows one person.

    Returns:
        The midpoint between the two scores the best cut falls between.

    Raises:
        ValueError: If the two differ in shape, or the pairs are all of one kind.
    """
    scores, same = _scored_pairs(scores, same)
    order = np.argsort(scores)
    sorted_scores, sorted_same = scores[order], same[order]
    # threshold below element i: pairs before i rejected, from i on accepted
    rejected_right = np.concatenate([[0], np.cumsum(~sorted_same)])
    accepted_right = np.concatenate([np.cumsum(sorted_same[::-1])[::-1], [0]])
    correct = rejected_right + accepted_right
    cuts = np.flatnonzero(np.concatenate([[True], np.diff(sorted_scores) > 0, [True]]))
    best = cuts[np.argmax(correct[cuts])]
    if best == 0:
        return float(np.nextafter(sorted_scores[0], -np.inf))
    if best == len(scores):
        return float(sorted_scores[-1])
    return float((sorted_scores[best - 1] + sorted_scores[best]) / 2)


def ten_fold_accuracy(scores, same, folds) -> dict[str, float]:
    """LFW's protocol: each fold judged with the threshold chosen on the other folds.

    Args:
        scores: Similarity of each pair.
        same: Whether each pair shows one person.
        folds: Fold of each pair (LFW: 10 folds; any number from 2 works).

    Returns:
        ``{"accuracy", "accuracy_std", "accuracy_standard_error", "threshold"}``:
        the mean over folds, their standard deviation, the standard error of
        the mean (what LFW results report after the ±), and the mean threshold.

    Raises:
        ValueError: If a fold is missing for a pair, there are fewer than 2
            folds, or the pairs are all same-person or all different-person.
    """
    scores, same = _scored_pairs(scores, same)
    folds = np.asarray(folds)
    names = np.unique(folds)
    if folds.shape != scores.shape or len(names) < 2:
        raise ValueError(
            "Invalid value for argument `folds`. Expected a fold for each pair and at least 2 "
            f"folds. Received {len(names)} fold(s) for {folds.size} of {scores.size} pairs."
        )
    accuracies, thresholds = [], []
    for fold in names:
        held = folds == fold
        threshold = best_threshold(scores[~held], same[~held])
        accuracies.append(np.mean((scores[held] > threshold) == same[held]))
        thresholds.append(threshold)
    return {
        "accuracy": float(np.mean(accuracies)),
        "accuracy_std": float(np.std(accuracies)),
        "accuracy_standard_error": float(np.std(accuracies, ddof=1) / np.sqrt(len(accuracies))),
        "threshold": float(np.mean(thresholds)),
    }


def roc_curve(scores, same) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve of pair scores, as scikit-learn's ``roc_curve`` without dropping points.

    Accepting pairs with score >= ``thresholds[i]`` gives ``(far[i], tar[i])``;
    the first point is ``(0, 0)``, accepting nothing.

    Args:
        scores: Similarity of each pair.
        same: Whether each pair shows one person.

    Returns:
        ``(false-accept rates, true-accept rates, thresholds)``, thresholds falling.

    Raises:
        ValueError: If the two differ in shape, or the pairs are all of one kind.
    """
    scores, same = _scored_pairs(scores, same)
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_same = scores[order], same[order]
    last_of_each = np.flatnonzero(np.concatenate([np.diff(sorted_scores) < 0, [True]]))
    tar = np.cumsum(sorted_same)[last_of_each] / same.sum()
    far = np.cumsum(~sorted_same)[last_of_each] / (~same).sum()
    thresholds = sorted_scores[last_of_each]
    return (
        np.concatenate([[0], far]),
        np.concatenate([[0], tar]),
        np.concatenate([[np.inf], thresholds]),
    )


def roc_auc(scores, same) -> float:
    """Area under the ROC curve: the chance a same-person pair outscores a different-person one."""
    far, tar, _ = roc_curve(scores, same)
    return float(np.sum(np.diff(far) * (tar[1:] + tar[:-1]) / 2))  # the trapezoid rule


def tar_at_far(scores, same, far: float) -> float:
    """The share of same-person pairs accepted when at most ``far`` of different-person pairs are.

    The threshold is the lowest at which the false-accept rate is still at
    most ``far`` (pairs tied at it all count as accepted).

    Args:
        scores: Similarity of each pair.
        same: Whether each pair shows one person.
        far: The false-accept rate allowed, in (0, 1).

    Returns:
        The true-accept rate at that threshold.

    Raises:
        ValueError: On a ``far`` outside (0, 1), or pairs as `roc_curve` refuses.
    """
    check_fraction("far", far)
    rates, true_rates, _ = roc_curve(scores, same)
    return float(true_rates[np.flatnonzero(rates <= far + 1e-12)[-1]])
