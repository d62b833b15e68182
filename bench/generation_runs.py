"""Scoring for the text-generation benches (translation, captioning).

A baseline's predicted texts are scored here exactly as the tasks score
theirs (`pipelines.generation.tokens_of` tokens, exact match against any
reference, `pipelines.metrics.corpus_bleu`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from runs import mean_std

from pipelines.generation import tokens_of
from pipelines.metrics import corpus_bleu


def text_scores(
    predictions: Sequence[str], references: Sequence[Sequence[str]], bleu_orders: dict[str, int]
) -> dict:
    """A deterministic baseline's exact match and BLEU, shaped as `seeded_metrics` (std 0).

    Args:
        predictions: One predicted text per example.
        references: For each example, its reference texts.
        bleu_orders: Reported name -> BLEU order, e.g. ``{"bleu": 4}``.
    """
    predicted = [tokens_of(text) for text in predictions]
    expected = [[tokens_of(text) for text in texts] for texts in references]
    scores = {"exact_match": float(np.mean([p in refs for p, refs in zip(predicted, expected)]))}
    for name, order in bleu_orders.items():
        scores[name] = corpus_bleu(expected, predicted, max_order=order)
    return {name: mean_std([value]) for name, value in scores.items()}
