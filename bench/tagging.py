"""Tagging WNUT-16 tweets: our default against the baselines a practitioner would write.

On the 2,394 WNUT-16 tweets (the task's fixed 80/10/10 split), in one run:
``train -P task=tagging`` with the defaults over ``--seeds`` seeds (any
``--variants`` too), a feature CRF (sklearn-crfsuite: word, shape, affixes,
casing and tweet markers of each token and its neighbours ±2; c1 = c2 = 0.1,
or chosen on the validation split with ``--tune-crf``) and the most frequent
tag per word, all scored on the same test split by seqeval (entity
precision, recall and F1, exact spans). Prints one JSON line: mean ± std per
model (the baselines are deterministic: one run, std 0), the margin of our
default over the feature CRF in F1 points and wall seconds.

Usage: python bench/tagging.py [--seeds 3] [--variants softmax,words_only] [--tune-crf]
"""

from __future__ import annotations

import argparse
import json
import time

from runs import mean_std, seeded_metrics

from baselines.tagging import (
    FeatureCRFTagger,
    MostFrequentTagger,
    entity_scores,
    tuned_feature_crf,
)
from pipelines.config import TrainConfig
from pipelines.tasks.tagging import load_tagged_data

VARIANTS = {
    "softmax": {"output": "softmax"},
    "gru": {"cell": "gru"},
    "words_only": {"char_features": False},
}
SCORES = ("entity_precision", "entity_recall", "entity_f1")


def scored(true_tags, predicted, seconds: float, **extra) -> dict:
    """A deterministic baseline's figures shaped as `seeded_metrics` (std 0)."""
    scores = entity_scores(true_tags, predicted)
    return {
        **{f"entity_{key}": mean_std([value]) for key, value in scores.items()},
        **extra,
        "seconds": round(seconds, 1),
    }


def baselines(tune_crf: bool) -> tuple[dict, dict]:
    """The feature CRF and most-frequent-tag figures on the task's own split, and its sizes."""
    data = load_tagged_data(TrainConfig(task="tagging"))
    train, validation, test = data.train, data.validation, data.test
    start = time.perf_counter()
    if tune_crf:
        crf, chosen = tuned_feature_crf(
            train.tokens, train.tags, validation.tokens, validation.tags
        )
    else:
        crf = FeatureCRFTagger().fit(train.tokens, train.tags)
        chosen = {"c1": crf.c1, "c2": crf.c2}
    results = {
        "feature_crf": scored(
            test.tags, crf.predict(test.tokens), time.perf_counter() - start, **chosen
        )
    }
    start = time.perf_counter()
    frequent = MostFrequentTagger(train.tokens, train.tags).predict(test.tokens)
    results["most_frequent_tag"] = scored(test.tags, frequent, time.perf_counter() - start)
    sizes = {"train": len(train), "validation": len(validation), "test": len(test)}
    return results, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--variants", default="", help=f"also run: {','.join(VARIANTS)}")
    parser.add_argument(
        "--tune-crf", action="store_true", help="choose the CRF's c1/c2 on validation"
    )
    args = parser.parse_args()
    variants = [name for name in args.variants.split(",") if name]
    unknown = [name for name in variants if name not in VARIANTS]
    if unknown:  # before any training, not after the default's seeds
        parser.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    start = time.perf_counter()
    models = {"default": seeded_metrics("tagging", {}, args.seeds, SCORES)}
    for name in variants:
        models[name] = seeded_metrics("tagging", VARIANTS[name], args.seeds, SCORES)
    found, sizes = baselines(args.tune_crf)
    models.update(found)
    margin = models["default"]["entity_f1"]["mean"] - models["feature_crf"]["entity_f1"]["mean"]
    print(
        json.dumps(
            {
                "bench": "tagging",
                "dataset": "wnut16",
                "sentences": sizes,
                "metric": "seqeval entity precision/recall/F1 on the test split",
                "models": models,
                "default_minus_feature_crf_f1_points": round(100 * margin, 2),
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
