"""Faces on synthetic people never seen in training: verification and identification, one run.

``train -P task=faces`` with its defaults (``--set option=value`` changes
them) over ``--seeds`` seeds. Its test people (``test_people``, 100 by
default; fixed, whatever the seed) are scored two ways:

- verification: 10 folds of 300 same-person and 300 different-person pairs,
  accuracy by LFW's 10-fold protocol, ROC AUC, true-accept rates at
  false-accept rates of 1 % and 0.1 %;
- identification: each person's first photo enrolled in a gallery of all
  the test people, each other photo asked; rank-1 accuracy.

The same pairs and gallery are scored with two baselines a practitioner
would try first: raw pixels (each photo's pixels, centred, as the vector)
and the same embedder untrained (random weights; what the architecture
gives before any face is seen). Prints one JSON line with the issue's
targets.

Usage: python bench/faces.py [--seeds 1] [--set epochs=30]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from ocr import parse_settings
from runs import seeded_metrics

from pipelines.config import TrainConfig

METRICS = (
    "verification_accuracy",
    "roc_auc",
    "tar_at_far_1pct",
    "tar_at_far_0_1pct",
    "rank1_accuracy",
)


def baselines(config: TrainConfig) -> dict[str, dict[str, float]]:
    """Raw-pixel and untrained-embedder figures on the run's test people and pairs."""
    import keras

    from models.face import face_embedder
    from pipelines.face_data import load_faces
    from pipelines.face_outcome import face_metrics
    from pipelines.visual_search import embed_images

    # the test people do not depend on how many people train: draw one only
    data = load_faces(TrainConfig.from_params(config.as_params(), train_people=1))
    test = data.test
    pixels = test.images.reshape(len(test), -1).astype(np.float32)
    keras.utils.set_random_seed(config.seed)
    untrained = face_embedder(
        config.image_size,
        config.filters,
        config.embedding_size,
        kernel_size=config.kernel_size,
        strides=config.stride,
        padding=config.padding,
    )
    vectors = {
        "raw_pixels": pixels - pixels.mean(axis=1, keepdims=True),
        "untrained_embedder": embed_images(untrained, test.images, config.batch_size),
    }
    return {
        name: {
            metric: round(value, 4)
            for metric, value in face_metrics(found, test.labels, data.test_pairs).items()
            if metric in METRICS
        }
        for name, found in vectors.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], help="option=value, repeatable")
    args = parser.parse_args()
    options = parse_settings(args.set)
    config = TrainConfig(task="faces", **options)  # a bad option fails now, not after training
    start = time.perf_counter()
    ours = seeded_metrics("faces", options, args.seeds, METRICS)
    found = baselines(config)
    mean = {name: ours[name]["mean"] for name in METRICS}
    targets = {
        "verification_accuracy_at_least_0.97": mean["verification_accuracy"] >= 0.97,
        "tar_at_far_1pct_at_least_0.90": mean["tar_at_far_1pct"] >= 0.90,
        "rank1_accuracy_at_least_0.95": mean["rank1_accuracy"] >= 0.95,
        "beats_both_baselines": all(
            mean[name] > figures[name] for figures in found.values() for name in METRICS
        ),
    }
    print(
        json.dumps(
            {
                "bench": "faces",
                "dataset": "synthetic_faces",
                "options": options,
                "people": {
                    "train": config.train_people,
                    "validation": config.validation_people,
                    "test_gallery": config.test_people,
                    "photos_each": config.photos_per_person,
                },
                "metric": "test people never trained on: 10-fold verification accuracy, ROC "
                "AUC, TAR at FAR 1% and 0.1% over 6,000 pairs; rank-1 identification, first "
                "photo of each person enrolled",
                "ours": ours,
                "baselines": found,
                "targets": targets,
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
