"""Helpers for the text-generation benches (translation, captioning): seeded runs, scoring.

Our default is trained once per seed; a baseline's predicted texts are
scored here exactly as the tasks score theirs (`pipelines.generation.tokens_of`
tokens, exact match against any reference, `pipelines.metrics.corpus_bleu`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from runs import mean_std, scratch_store, timed_train

from pipelines.generation import tokens_of
from pipelines.metrics import corpus_bleu


def seeded_metrics(task: str, options: dict, seeds: int, metrics: Sequence[str]) -> dict:
    """Trains ``task`` with ``options`` for seeds 0..seeds-1; each test metric mean ± std.

    Args:
        task: The task trained.
        options: `TrainConfig` fields besides ``task`` and ``seed``.
        seeds: How many seeds.
        metrics: Names of the test metrics kept, without the ``test_`` prefix.

    Returns:
        ``{metric: mean_std, "per_seed": {metric: [figures]}, "seconds": mean_std}``.
    """
    with scratch_store() as folder:
        runs = [timed_train(folder, task=task, seed=seed, **options) for seed in range(seeds)]
    result = {name: mean_std([found[f"test_{name}"] for found, _ in runs]) for name in metrics}
    result["per_seed"] = {
        name: [round(found[f"test_{name}"], 4) for found, _ in runs] for name in metrics
    }
    result["seconds"] = mean_std([seconds for _, seconds in runs])
    return result


def text_scores(
    predictions: Sequence[str], references: Sequence[Sequence[str]], bleu_orders: dict[str, int]
) -> dict:
    """A deterministic baseline's exact match and BLEU, in the form of `seeded_metrics` (std 0).

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
