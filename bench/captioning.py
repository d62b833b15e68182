"""Captioning the generated shape scenes: exact match and BLEU on unseen combinations.

Runs ``train -P task=captioning`` on the generated scenes (two coloured
shapes on a 32x32 canvas and their caption, e.g. "a red circle above a blue
square"; 20 % of the (object, relation, object) combinations appear only in
the test set) with the default configuration (our small CNN, an LSTM
decoder of 64 units, 12 epochs, greedy decoding) and the variants asked
for, and prints one JSON line with exact match, BLEU-1..4 and seconds.

Usage: python bench/captioning.py [--variants default,beam4,gru]
"""

from __future__ import annotations

import argparse
import json

from runs import run_variants

VARIANTS = {
    "default": {},
    "beam4": {"beam_width": 4},
    "gru": {"cell": "gru"},
    "units128": {"units": 128},
    "units128_30epochs": {"units": 128, "epochs": 30},
    "30epochs": {"epochs": 30},
    "dropout": {"dropout": 0.3, "epochs": 20},
    "no_attention": {"attention": "none"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="default")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    results = {
        variant: {
            **{key: round(value, 4) for key, value in metrics.items()},
            "seconds": round(seconds, 1),
        }
        for variant, (metrics, seconds) in run_variants(
            "captioning", VARIANTS, args.variants, args.seed
        ).items()
    }
    print(json.dumps({"bench": "captioning", "dataset": "shapes", "variants": results}))


if __name__ == "__main__":
    main()
