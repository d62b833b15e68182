"""Few-shot transfer vs training from scratch, offline, on Fashion-MNIST.

The small-dataset scenario transfer learning is for: a VGG-style backbone is
pretrained on all 30,000 training images of classes 0-4 (T-shirt..Coat); the
new task is classes 5-9 (Sandal..Ankle boot) with only a few labelled images
per class. Both models have the same architecture, head (flatten -> dropout
-> softmax), optimizer, epochs and examples; "transfer" freezes the
pretrained backbone and trains the head, "scratch" trains everything from
random weights. Repeated over several few-shot draws, for each shot count.

Prints one JSON line with both test accuracies (mean ± std and per repeat) on all
5,000 test images of classes 5-9, per shot count.

Usage: python bench/transfer.py [--shots 5,20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import keras
import numpy as np
from runs import mean_std

from data import load_dataset
from data.specs import TEST, TRAIN
from models import small_vgg
from models.transfer import transfer_model
from pipelines.cli import data_locations_from_environment

BLOCKS = ((32, 1), (64, 1), (128, 1))
SOURCE, TARGET = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)


def select(split, classes):
    keep = np.isin(split.labels, classes)
    labels = np.searchsorted(np.asarray(classes), split.labels[keep])
    return split.images[keep], labels


def pretrain(images, labels, epochs, seed):
    keras.utils.set_random_seed(seed)
    model = small_vgg(input_shape=images.shape[1:], classes=len(SOURCE), blocks=BLOCKS)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(images.astype("float32") / 255.0, labels, batch_size=128, epochs=epochs, verbose=0)
    return keras.Model(model.input, model.get_layer(f"block{len(BLOCKS)}_pool").output)


def few_shot_accuracy(backbone, frozen, train, test, epochs, seed, learning_rate):
    keras.utils.set_random_seed(seed)
    model = transfer_model(
        backbone, len(TARGET), input_channels=1, preprocessing="rescale", pooling="flatten"
    )
    backbone.trainable = not frozen
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(*train, batch_size=32, epochs=epochs, verbose=0)
    return float(model.evaluate(*test, batch_size=500, verbose=0)[1])


def draw_shots(labels, shots, seed):
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), shots, replace=False) for c in range(len(TARGET))]
    )


def compare(pretrained, pretrained_weights, target, test, shots, args):
    transfer, scratch = [], []
    for repeat in range(args.repeats):
        chosen = draw_shots(target[1], shots, 100 + repeat)
        train = (target[0][chosen], target[1][chosen])
        backbone = keras.models.clone_model(pretrained)
        backbone.set_weights(pretrained_weights)
        transfer.append(
            few_shot_accuracy(backbone, True, train, test, args.epochs, repeat, args.learning_rate)
        )
        keras.utils.set_random_seed(1000 + repeat)
        fresh = small_vgg(include_top=False, input_shape=(28, 28, 1), blocks=BLOCKS)
        scratch.append(
            few_shot_accuracy(fresh, False, train, test, args.epochs, repeat, args.learning_rate)
        )
    return {
        "transfer_accuracy": mean_std(transfer),
        "scratch_accuracy": mean_std(scratch),
        "margin": round(statistics.mean(transfer) - statistics.mean(scratch), 4),
        "transfer_repeats": [round(a, 4) for a in transfer],
        "scratch_repeats": [round(a, 4) for a in scratch],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", default="5,20", help="labelled images per class, e.g. 5,20")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pretrain_examples", type=int, default=30000)
    parser.add_argument("--pretrain_epochs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=40, help="few-shot training epochs")
    parser.add_argument("--learning_rate", type=float, default=1e-2, help="few-shot Adam rate")
    args = parser.parse_args()
    shot_counts = [int(n) for n in args.shots.split(",")]
    start = time.perf_counter()

    _, splits = load_dataset("fashion_mnist", data_locations_from_environment())
    source_x, source_y = select(splits[TRAIN], SOURCE)
    order = np.random.default_rng(0).permutation(len(source_y))[: args.pretrain_examples]
    pretrained = pretrain(source_x[order], source_y[order], args.pretrain_epochs, seed=0)
    pretrained_weights = pretrained.get_weights()
    target = select(splits[TRAIN], TARGET)
    test = select(splits[TEST], TARGET)
    results = {
        str(shots): compare(pretrained, pretrained_weights, target, test, shots, args)
        for shots in shot_counts
    }
    print(
        json.dumps(
            {
                "bench": "transfer",
                "source_classes": list(SOURCE),
                "target_classes": list(TARGET),
                "repeats": args.repeats,
                "pretrain_examples": int(len(order)),
                "test_examples": int(len(test[1])),
                "head": "flatten",
                "by_shots_per_class": results,
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
