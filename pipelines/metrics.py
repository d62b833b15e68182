"""Evaluation measures of the sequence tasks, in NumPy: token accuracy, forecast errors, BLEU.

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


def seasonal_naive_forecast(
    values: np.ndarray, target_steps: np.ndarray, horizon: int, season: int
) -> np.ndarray:
    """The value one season before each forecast step: ``y[t + h - season]``.

    Read from the whole series, so it works whatever the window length.

    Args:
        values: The target series, ``[steps]``.
        target_steps: Index of each example's first forecast step.
        horizon: Forecast steps.
        season: Seasonal period in steps.

    Returns:
        ``[n, horizon]`` forecasts.

    Raises:
        ValueError: If a forecast step has no value one season before it.
    """
    steps = np.asarray(target_steps)[:, np.newaxis] + np.arange(horizon) - season
    if steps.min() < 0:
        raise ValueError(
            f"The seasonal naive forecast needs a season ({season} steps) of history before "
            f"every forecast step; the first is step {int(np.min(target_steps))}."
        )
    return np.asarray(values)[steps]


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
