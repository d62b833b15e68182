"""Sentiment on Rotten Tomatoes: our default against the baselines a practitioner would write.

On the 12,749 distinct Rotten Tomatoes snippets (deduplicated up to case,
punctuation and spacing before the fixed 80/10/10 split, so no text is in two
splits), in one run: ``train -P task=sentiment`` with the defaults (word CNN +
bag of 1-3-grams started from naive-Bayes ratios) over ``--seeds`` seeds, the
RNN variants named by ``--variants``, TF-IDF (word 1-2-grams) + logistic
regression with scikit-learn's defaults, and the majority class, all scored
on the same test split. Prints one JSON line: test accuracy mean ± std per
model, the margin of our default over TF-IDF + LR in points (the target is
≥ 1.0) and wall seconds.

Usage: python bench/sentiment.py [--seeds 3] [--variants lstm,bilstm,gru,simple_rnn]
"""

from __future__ import annotations

import argparse
import json

from runs import mean_std, seeded_runs

from baselines.sentiment import majority_class, tfidf_logistic_regression
from data.choice import split_three_ways
from data.text import rotten_tomatoes

RNN = {"encoder": "rnn", "ngrams": 0}
VARIANTS = {
    "lstm": RNN,  # the default before the CNN + n-grams
    "bilstm": {**RNN, "bidirectional": True},
    "gru": {**RNN, "cell": "gru"},
    "simple_rnn": {**RNN, "cell": "simple_rnn"},
}
TARGET_MARGIN_POINTS = 1.0


def baselines() -> dict:
    """The baselines on the task's own split of the snippets (the pipeline's fractions)."""
    train, _, test = split_three_ways(rotten_tomatoes()["full"], 0.1, 0.1)
    return {
        "tfidf_logistic_regression": tfidf_logistic_regression(train, test)["accuracy"],
        "majority_class": majority_class(train, test)["accuracy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--variants", default="lstm", help="RNN variants also run ('' for none)")
    args = parser.parse_args()
    models = {"default": seeded_runs("sentiment", {}, args.seeds, "test_accuracy")}
    for name in filter(None, args.variants.split(",")):
        models[name] = seeded_runs("sentiment", VARIANTS[name], args.seeds, "test_accuracy")
    for name, accuracy in baselines().items():
        models[name] = {"test_accuracy": mean_std([accuracy])}
    ours = models["default"]["test_accuracy"]["mean"]
    reference = models["tfidf_logistic_regression"]["test_accuracy"]["mean"]
    margin = round(100 * (ours - reference), 2)
    print(
        json.dumps(
            {
                "bench": "sentiment",
                "dataset": "rotten_tomatoes",
                "split": "fixed 80/10/10 of 12,749 distinct snippets",
                "seeds": args.seeds,
                "models": models,
                "default_margin_over_tfidf_lr_points": margin,
                "default_beats_tfidf_lr_by_target": margin >= TARGET_MARGIN_POINTS,
            }
        )
    )


if __name__ == "__main__":
    main()
