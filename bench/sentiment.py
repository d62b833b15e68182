"""Sentiment on Rotten Tomatoes: the default configuration's floor and the RNN variants.

Runs ``train -P task=sentiment`` on the 12,752 distinct Rotten Tomatoes snippets
(fixed 80/10/10 split) with the defaults (one LSTM of 64 units, 3 epochs),
then with a bidirectional LSTM, a GRU and a SimpleRNN, and prints one JSON
line with test accuracy and wall seconds per variant. The floor is 0.72
test accuracy for the default, on CPU in under 10 minutes.

Usage: python bench/sentiment.py [--variants lstm,bilstm,gru,simple_rnn]
"""

from __future__ import annotations

import argparse
import json

from runs import run_variants

VARIANTS = {
    "lstm": {},
    "bilstm": {"bidirectional": True},
    "gru": {"cell": "gru"},
    "bigru": {"cell": "gru", "bidirectional": True},
    "simple_rnn": {"cell": "simple_rnn"},
}
FLOOR = 0.72


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="lstm,bilstm,gru,simple_rnn")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    results = {
        variant: {
            "test_accuracy": round(metrics["test_accuracy"], 4),
            "test_loss": round(metrics["test_loss"], 4),
            "seconds": round(seconds, 1),
        }
        for variant, (metrics, seconds) in run_variants(
            "sentiment", VARIANTS, args.variants, args.seed
        ).items()
    }
    default = results.get("lstm")
    print(
        json.dumps(
            {
                "bench": "sentiment",
                "dataset": "rotten_tomatoes",
                "floor": FLOOR,
                "default_meets_floor": bool(
                    default and default["test_accuracy"] >= FLOOR and default["seconds"] < 600
                ),
                "variants": results,
            }
        )
    )


if __name__ == "__main__":
    main()
