"""Image classification on Fashion-MNIST: our CNN against the baselines a practitioner would write.

On the 10,000 Fashion-MNIST test images, in one run:

- ``default``: ``train -P task=classify`` with its defaults (our Conv2D and
  MaxPool2D, filters 16,32, 6 epochs), once per seed;
- ``keras``: the same pipeline, model and training (same seeds, data order
  and optimizer) with ``keras.layers.Conv2D``/``MaxPooling2D`` in place of
  ours (`models.small_cnn`'s ``conv_layer="keras"``);
- ``quality`` (when named in ``--variants``): ``preset=quality``;
- ``logistic_regression``: scikit-learn on raw pixels
  (`baselines.images`), fitted on the examples seed 0's run trains on;
  deterministic, so one fit (std 0).

Seeds are 0 .. ``--seeds`` - 1 (weights, validation draw, shuffling). Prints
one JSON line: test accuracy mean ± std (population) and per seed, and wall
seconds per run (data, training, evaluation, plots, export) per model, and
the margin of our default over logistic regression in points.

Usage:
    python bench/classify.py                          # default, keras; 3 seeds
    python bench/classify.py --variants default,keras,quality --seeds 3   # + the preset
    python bench/classify.py --seeds 1 --max_examples 2000 --epochs 1      # smoke check
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
from collections.abc import Iterator

from runs import mean_std, seeded_runs

from baselines.images import logistic_regression_baseline
from data import load_dataset
from pipelines.cli import data_locations_from_environment
from pipelines.tasks import TASKS, classify

VARIANTS = {"default": {}, "keras": {}, "quality": {"preset": "quality"}}


@contextlib.contextmanager
def keras_layers() -> Iterator[None]:
    """The classify task trains Keras's own Conv2D/MaxPooling2D inside this block."""
    task = TASKS["classify"]
    keras_train = functools.partial(classify.train, conv_layer="keras")
    TASKS["classify"] = dataclasses.replace(task, train=keras_train)
    try:
        yield
    finally:
        TASKS["classify"] = task


def cnn_runs(variant: str, seeds: int, overrides: dict) -> dict:
    """``seeded_runs`` of the classify task for one variant."""
    options = {**VARIANTS[variant], **overrides}
    with keras_layers() if variant == "keras" else contextlib.nullcontext():
        return seeded_runs("classify", options, seeds, "test_accuracy")


def logistic_regression(max_examples: int) -> dict:
    """The raw-pixel baseline on seed 0's training examples and the test split."""
    _, splits = load_dataset("fashion_mnist", data_locations_from_environment())
    score = logistic_regression_baseline(splits, seed=0, max_examples=max_examples)
    return {
        "test_accuracy": mean_std([score.test_accuracy]),
        "seconds": mean_std([score.seconds]),
        "train_examples": score.train_examples,
        "test_examples": score.test_examples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="default,keras", help=f"of {', '.join(VARIANTS)}")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max_examples", type=int, default=0, help="smoke checks: fewer images")
    parser.add_argument("--epochs", type=int, default=0, help="0: each variant's own")
    args = parser.parse_args()
    names = [name for name in args.variants.split(",") if name]
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    overrides = {"max_examples": args.max_examples, "epochs": args.epochs}
    models = {name: cnn_runs(name, args.seeds, overrides) for name in names}
    models["logistic_regression"] = logistic_regression(args.max_examples)
    result = {
        "bench": "classify",
        "dataset": "fashion_mnist",
        "test_examples": models["logistic_regression"]["test_examples"],
        "seeds": args.seeds,
        "options": {k: v for k, v in overrides.items() if v},
        "models": models,
    }
    if "default" in models:
        ours = models["default"]["test_accuracy"]["mean"]
        reference = models["logistic_regression"]["test_accuracy"]["mean"]
        result["default_margin_over_logistic_regression_points"] = round(
            100 * (ours - reference), 2
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
