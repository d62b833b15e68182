"""Captioning shape scenes: our default against the nearest-image and most-frequent captions.

On the generated scenes (two coloured shapes on a 32x32 canvas and their
caption, e.g. "a red circle above a blue square"; 20 % of the (object,
relation, object) combinations appear only in the test set), in one run:
``train -P task=captioning`` with the defaults (our small CNN, an LSTM
decoder of 64 units, 12 epochs, greedy decoding) over ``--seeds`` seeds,
the ``--variants`` asked for, the caption of the nearest training image in
raw pixels (1-NN) and the most frequent training caption, all scored on the
same test split by exact match and corpus BLEU-1..4. Prints one JSON line:
mean ± std per model (the baselines are deterministic: std 0) and wall
seconds.

Usage: python bench/captioning.py [--seeds 3] [--variants beam4,gru]
"""

from __future__ import annotations

import argparse
import json
import time

from generation_runs import text_scores
from runs import seeded_metrics

from baselines.captioning import most_frequent_caption, nearest_image_captions
from pipelines.config import TrainConfig
from pipelines.tasks.captioning import load_caption_data

VARIANTS = {
    "beam4": {"beam_width": 4},
    "gru": {"cell": "gru"},
    "units128": {"units": 128},
    "units128_30epochs": {"units": 128, "epochs": 30},
    "30epochs": {"epochs": 30},
    "dropout": {"dropout": 0.3, "epochs": 20},
    "no_attention": {"attention": "none"},
}
BLEU = {f"bleu_{n}": n for n in (1, 2, 3, 4)}
METRICS = ("exact_match", *BLEU)


def baselines() -> tuple[dict, dict]:
    """1-NN and most-frequent-caption figures on the task's own test split, and its sizes."""
    data = load_caption_data(TrainConfig(task="captioning"))
    train, test = data.train, data.test
    frequent = most_frequent_caption(train.captions)
    predictions = {
        "nearest_image_caption": nearest_image_captions(train.images, train.captions, test.images),
        "most_frequent_caption": [frequent] * len(test),
    }
    results = {
        name: text_scores(predicted, test.captions, BLEU) for name, predicted in predictions.items()
    }
    sizes = {"train": len(train), "validation": len(data.validation), "test": len(test)}
    return results, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--variants", default="", help=f"also run: {','.join(VARIANTS)}")
    args = parser.parse_args()
    variants = [name for name in args.variants.split(",") if name and name != "default"]
    for name in variants:
        if name not in VARIANTS:
            parser.error(f"unknown variant {name!r}; choose from {', '.join(VARIANTS)}")
    start = time.perf_counter()
    found, sizes = baselines()
    models = {"default": seeded_metrics("captioning", {}, args.seeds, METRICS)}
    for name in variants:
        models[name] = seeded_metrics("captioning", VARIANTS[name], args.seeds, METRICS)
    models.update(found)
    print(
        json.dumps(
            {
                "bench": "captioning",
                "dataset": "shapes",
                "images": sizes,
                "seeds": args.seeds,
                "metric": "exact match and corpus BLEU-1..4 on the test split",
                "models": models,
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
