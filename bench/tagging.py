"""Tagging WNUT-16 tweets: entity F1 of the default BiLSTM against the per-word baseline.

Runs ``train -P task=tagging`` on the 2,394 WNUT-16 tweets (fixed 80/10/10
split) with the defaults (word embeddings + character CNN, one
bidirectional LSTM of 64 units per direction), optionally also with a GRU
and without characters, and prints one JSON line with entity precision,
recall and F1 (exact spans, as seqeval), token accuracy, and the same for
the most-frequent-tag-per-word baseline.

Usage: python bench/tagging.py [--variants lstm,gru,lstm_words_only]
"""

from __future__ import annotations

import argparse
import json

from runs import run_variants

VARIANTS = {
    "lstm": {},
    "gru": {"cell": "gru"},
    "lstm_words_only": {"char_features": False},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="lstm")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    results, baseline = {}, {}
    for variant, (metrics, seconds) in run_variants(
        "tagging", VARIANTS, args.variants, args.seed
    ).items():
        results[variant] = {
            key.removeprefix("test_"): round(value, 4)
            for key, value in metrics.items()
            if key.startswith("test_")
        }
        results[variant]["seconds"] = round(seconds, 1)
        results[variant]["beats_baseline_f1"] = (
            metrics["test_entity_f1"] > metrics["baseline_entity_f1"]
        )
        baseline = {  # the same for every variant: it does not depend on the model
            key.removeprefix("baseline_"): round(value, 4)
            for key, value in metrics.items()
            if key.startswith("baseline_")
        }
    print(
        json.dumps(
            {"bench": "tagging", "dataset": "wnut16", "variants": results, "baseline": baseline}
        )
    )


if __name__ == "__main__":
    main()
