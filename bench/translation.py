"""Translation on the generated number-words task: exact match on held-out numbers.

Runs ``train -P task=translation`` on 12,000 distinct numbers below 100,000
(digits -> English words; 9,600 train, 1,200 validation, 1,200 test numbers
never seen in training) with the default configuration (LSTM encoder and
decoder of 64 units, Luong attention, 10 epochs, greedy decoding) and the
variants asked for, and prints one JSON line with exact match, corpus
BLEU-4 and seconds per variant. The floor is 0.90 exact match for the
default.

Usage: python bench/translation.py [--variants default,beam4,no_attention,gru]
"""

from __future__ import annotations

import argparse
import json

from runs import run_variants

VARIANTS = {
    "default": {},
    "beam4": {"beam_width": 4},
    "no_attention": {"attention": "none"},
    "bahdanau": {"attention": "bahdanau"},
    "gru": {"cell": "gru"},
    "bidirectional": {"bidirectional": True},
}
FLOOR = 0.90


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="default,beam4,no_attention")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    results = {
        variant: {
            "test_exact_match": round(metrics["test_exact_match"], 4),
            "test_bleu": round(metrics["test_bleu"], 4),
            "seconds": round(seconds, 1),
        }
        for variant, (metrics, seconds) in run_variants(
            "translation", VARIANTS, args.variants, args.seed
        ).items()
    }
    default = results.get("default")
    print(
        json.dumps(
            {
                "bench": "translation",
                "dataset": "number_words",
                "floor": FLOOR,
                "default_meets_floor": bool(default and default["test_exact_match"] >= FLOOR),
                "variants": results,
            }
        )
    )


if __name__ == "__main__":
    main()
