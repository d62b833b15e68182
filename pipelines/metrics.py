"""Evaluation measures in NumPy: token accuracy, forecast errors, BLEU, retrieval at k, CER.

Entity F1 and the tagging baselines are seqeval's and live in `baselines.tagging`.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence

import numpy as np


def token_accuracy(
    true_tags: Sequence[Sequence[str]], predicted_tags: Sequence[Sequence[str]]
) -> float:
    """Share of tokens (padding excluded) whose tag is right."""
    pairs = [
        (t, p)
        for true, predicted in zip(true_tags, predicted_tags, strict=True)
        for t, p in zip(true, predicted, strict=True)
    ]
    return sum(t == p for t, p in pairs) / len(pairs) if pairs else 0.0


def forecast_errors(targets: np.ndarray, forecasts: np.ndarray) -> dict[str, float]:
    """MAE and RMSE over every forecast step."""
    errors = np.asarray(forecasts, np.float64) - np.asarray(targets, np.float64)
    return {"mae": float(np.mean(np.abs(errors))), "rmse": float(np.sqrt(np.mean(errors**2)))}


def naive_forecast(inputs: np.ndarray, horizon: int, target_index: int = 0) -> np.ndarray:
    """The last observed value repeated over the horizon: ``[n, horizon]``."""
    last = inputs[:, -1, target_index]
    return np.repeat(last[:, np.newaxis], horizon, axis=1)


def _ngrams(tokens: Sequence[str], n: int) -> collections.Counter:
    return collections.Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(
    references: Sequence[Sequence[Sequence[str]]],
    hypotheses: Sequence[Sequence[str]],
    max_order: int = 4,
) -> float:
    """Corpus BLEU (Papineni et al. 2002), as ``nltk.translate.bleu_score.corpus_bleu``.

    Clipped n-gram counts (each n-gram counts at most as often as in the
    reference that has it most) are summed over the corpus for n = 1..
    ``max_order``; BLEU is their geometric mean precision times the brevity
    penalty ``exp(1 - r / c)`` when the hypotheses (length c) are shorter
    than the closest reference lengths (r). No smoothing: 0 when some order
    has no match.

    Args:
        references: For each example, one or more reference token lists.
        hypotheses: For each example, the predicted tokens.
        max_order: Highest n-gram order (4 for BLEU-4, 1 for BLEU-1).

    Returns:
        BLEU in ``[0, 1]``.
    """
    matches = [0] * max_order
    totals = [0] * max_order
    hypothesis_length = reference_length = 0
    for refs, hypothesis in zip(references, hypotheses, strict=True):
        hypothesis_length += len(hypothesis)
        reference_length += min(
            (len(r) for r in refs), key=lambda length: (abs(length - len(hypothesis)), length)
        )
        for n in range(1, max_order + 1):
            counts = _ngrams(hypothesis, n)
            most = collections.Counter()
            for reference in refs:
                most |= _ngrams(reference, n)
            matches[n - 1] += sum(min(count, most[gram]) for gram, count in counts.items())
            totals[n - 1] += max(len(hypothesis) - n + 1, 0)
    if hypothesis_length == 0 or min(matches) == 0:
        return 0.0
    log_precision = sum(np.log(m / t) for m, t in zip(matches, totals)) / max_order
    brevity = (
        1.0
        if hypothesis_length > reference_length
        else np.exp(1 - reference_length / hypothesis_length)
    )
    return float(brevity * np.exp(log_precision))


def retrieval_scores(
    found_labels: np.ndarray, query_labels: np.ndarray, catalog_labels: np.ndarray
) -> dict[str, float]:
    """Precision, recall and mean average precision at k, a result counting when its class is right.

    Args:
        found_labels: ``[queries, k]`` labels of each query's results, best first.
        query_labels: ``[queries]`` label of each query.
        catalog_labels: ``[items]`` labels of the whole catalog (for recall:
            how many right answers each query has).

    Returns:
        ``{"precision_at_k", "recall_at_k", "map_at_k"}``, means over queries.
        Average precision at k sums precision@i over the ranks i holding a
        right answer, divided by ``min(k, right answers in the catalog)``.
    """
    found_labels = np.asarray(found_labels)
    query_labels = np.asarray(query_labels)
    relevant = found_labels == query_labels[:, np.newaxis]
    k = relevant.shape[1]
    classes, counts = np.unique(np.asarray(catalog_labels), return_counts=True)
    in_catalog = dict(zip(classes.tolist(), counts.tolist(), strict=True))
    available = np.array([in_catalog.get(label, 0) for label in query_labels.tolist()], float)
    hits = relevant.sum(axis=1)
    precision_at_rank = np.cumsum(relevant, axis=1) / np.arange(1, k + 1)
    average_precision = (precision_at_rank * relevant).sum(axis=1) / np.maximum(
        np.minimum(available, k), 1
    )
    return {
        "precision_at_k": float(np.mean(hits / k)),
        "recall_at_k": float(np.mean(hits / np.maximum(available, 1))),
        "map_at_k": float(np.mean(average_precision)),
    }


def edit_distance(first: Sequence, second: Sequence) -> int:
    """Levenshtein distance: fewest insertions, deletions, substitutions (characters or words)."""
    previous = list(range(len(second) + 1))
    for i, left in enumerate(first, start=1):
        current = [i]
        for j, right in enumerate(second, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (left != right))
            )
        previous = current
    return previous[-1]


def text_recognition_scores(predicted: Sequence[str], true: Sequence[str]) -> dict[str, float]:
    """Character error rate and exact-string accuracy of read texts.

    ``cer`` is the summed edit distance over the summed true length (as
    jiwer and the OCR literature count it; it can exceed 1 when the reader
    inserts characters); ``accuracy`` the share of texts read exactly.

    Raises:
        ValueError: On lists of different lengths, or no true character.
    """
    if len(predicted) != len(true):
        raise ValueError(
            f"Expected one read text per true text. Received {len(predicted)} read and "
            f"{len(true)} true."
        )
    characters = sum(len(text) for text in true)
    if not characters:
        raise ValueError("The true texts have no character: the character error rate is undefined.")
    errors = sum(edit_distance(p, t) for p, t in zip(predicted, true, strict=True))
    exact = sum(p == t for p, t in zip(predicted, true, strict=True))
    return {"cer": errors / characters, "accuracy": exact / len(true)}


def speech_recognition_scores(heard: Sequence[str], said: Sequence[str]) -> dict[str, float]:
    """Word and character error rates and exact-transcript accuracy, as jiwer counts them.

    ``wer`` is the summed word-level edit distance over the summed count of
    words said; ``cer`` and ``accuracy`` as in `text_recognition_scores`.

    Raises:
        ValueError: On lists of different lengths, or nothing said.
    """
    scores = text_recognition_scores(heard, said)
    words = sum(len(text.split()) for text in said)
    errors = sum(edit_distance(h.split(), s.split()) for h, s in zip(heard, said, strict=True))
    return {"wer": errors / words, **scores}
