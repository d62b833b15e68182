"""OCR on generated noisy number plates: our default reader against Tesseract, in one run.

``train -P task=ocr`` with the defaults (``--set option=value`` changes
them, for experiments) over ``--seeds`` seeds, on the task's generated
plates: test texts never seen in training, read once in the training fonts
(``test``) and once in held-out font families (``test_held_out_fonts``).
Tesseract (``--psm 7``, as a practitioner calls it) reads the same test
images when it is installed. Prints one JSON line: character error rate and
exact-plate accuracy per split, mean ± std over seeds, Tesseract's figures,
the issue's targets (CER ≤ 1.0% with training fonts, ≤ 2.5% with held-out
fonts, and at most a fifth of Tesseract's) and wall seconds.

Usage: python bench/ocr.py [--seeds 1] [--set epochs=20 --set learning_rate=0.002]
"""

from __future__ import annotations

import argparse
import json
import time

from runs import seeded_metrics

from baselines.ocr import tesseract_available, tesseract_read
from pipelines.config import TrainConfig
from pipelines.metrics import text_recognition_scores
from pipelines.tasks.ocr import load_data

SPLITS = {"training_fonts": "test", "held_out_fonts": "test_held_out_fonts"}
TARGETS = {"training_fonts": 0.010, "held_out_fonts": 0.025}
FAR_BELOW = 5  # "far below Tesseract": at most a fifth of its CER
DATA_OPTIONS = ("dataset", "generated_images", "held_out_fonts", "image_height", "max_examples")
"""Options that change the test images (Tesseract reads what the reader was tested on)."""


def tesseract_figures(options: dict) -> dict:
    """Tesseract's CER and exact accuracy on each test split (the task's own images)."""
    if not tesseract_available():
        return {"skipped": "tesseract is not installed (sudo apt-get install tesseract-ocr)"}
    splits = load_data(TrainConfig(task="ocr", **options)).splits
    figures, start = {}, time.perf_counter()
    for name, split in SPLITS.items():
        read = tesseract_read(splits[split].images)
        scores = text_recognition_scores(read, splits[split].texts)
        figures[name] = {"cer": round(scores["cer"], 4), "exact": round(scores["accuracy"], 4)}
    figures["seconds"] = round(time.perf_counter() - start, 1)
    return figures


def parse_settings(pairs: list[str]) -> dict:
    """``["epochs=20"]`` -> ``{"epochs": "20"}`` (TrainConfig parses the values)."""
    settings = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals:
            raise SystemExit(f"--set takes option=value; received {pair!r}")
        settings[name.strip()] = value.strip()
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], help="option=value, repeatable")
    args = parser.parse_args()
    options = parse_settings(args.set)
    TrainConfig(task="ocr", **options)  # a bad option fails now, not after training
    start = time.perf_counter()
    metrics = [
        f"{prefix}{score}"
        for prefix in ("", "held_out_fonts_")
        for score in ("cer", "exact_accuracy")
    ]
    found = seeded_metrics("ocr", options, args.seeds, metrics)
    ours = {
        name: {
            "cer": found[f"{prefix}cer"],
            "exact": found[f"{prefix}exact_accuracy"],
        }
        for name, prefix in (("training_fonts", ""), ("held_out_fonts", "held_out_fonts_"))
    }
    tesseract = tesseract_figures({k: v for k, v in options.items() if k in DATA_OPTIONS})
    targets = {
        f"{name}_cer_at_most_{limit:.1%}": ours[name]["cer"]["mean"] <= limit
        for name, limit in TARGETS.items()
    }
    if "skipped" not in tesseract:
        for name in SPLITS:
            targets[f"{name}_cer_at_most_a_fifth_of_tesseract"] = (
                ours[name]["cer"]["mean"] * FAR_BELOW <= tesseract[name]["cer"]
            )
    print(
        json.dumps(
            {
                "bench": "ocr",
                "dataset": "plates",
                "options": options,
                "metric": "character error rate (CER) and exact-plate accuracy, unseen plates",
                "ours": ours,
                "per_seed": found["per_seed"],
                "train_seconds": found["seconds"],
                "tesseract": tesseract,
                "targets": targets,
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
