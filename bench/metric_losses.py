"""Which metric-learning loss makes the best search embeddings: measured on Fashion-MNIST.

The catalog is the Fashion-MNIST training split (``--examples`` images, all
60,000 by default); the queries are ``--queries`` test images. Each embedding
model is the same backbone (`small_cnn` without its top, filters 32,64) with
an L2-normalised head of ``--dimension``, trained for ``--epochs`` on the
catalog with one loss of `models.metric_learning`; a query's precision@10 is
the share of its 10 nearest catalog images (exact search) of its class. In
the same run, the baselines a practitioner would reach for: raw pixels
(unit-normalised) and the penultimate features of the same backbone trained
as a classifier (softmax, same epochs). Prints one JSON line: precision@10
mean ± std over ``--seeds`` per model, and seconds.

Usage: python bench/metric_losses.py [--epochs 3] [--seeds 3] [--losses triplet,contrastive]
"""

from __future__ import annotations

import argparse
import json
import time

import keras
import numpy as np
from runs import mean_std

from data import load_dataset
from data.specs import TEST, TRAIN
from models import small_cnn
from models.embedding import embedding_model, penultimate_model
from models.metric_learning import SemiHardTripletLoss, SupervisedContrastiveLoss
from pipelines.cli import data_locations_from_environment
from pipelines.vector_index import ExactIndex
from pipelines.visual_search import retrieval_metrics

LOSSES = {
    "triplet": lambda: SemiHardTripletLoss(margin=0.5),
    "contrastive": lambda: SupervisedContrastiveLoss(temperature=0.1),
}


def precision_at(k, catalog_vectors, catalog_labels, query_vectors, query_labels) -> float:
    """Mean share of each query's ``k`` nearest catalog items (exact search) with its label."""
    index = ExactIndex(catalog_vectors.shape[1])
    index.add(np.arange(len(catalog_vectors)), catalog_vectors)
    metrics, _, _ = retrieval_metrics(index, query_vectors, query_labels, catalog_labels, k)
    return metrics[f"precision_at_{k}"]


def backbone(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return small_cnn(include_top=False, input_shape=(28, 28, 1), filters=(32, 64))


def trained_embedder(loss: str, catalog, args, seed: int) -> keras.Model:
    model = embedding_model(backbone(seed), dimension=args.dimension)
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss=LOSSES[loss]())
    model.fit(*catalog, batch_size=args.batch_size, epochs=args.epochs, verbose=0)
    return model


def trained_penultimate(catalog, args, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    classifier = small_cnn(input_shape=(28, 28, 1), filters=(32, 64), dense_units=args.dimension)
    classifier.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate),
        loss="sparse_categorical_crossentropy",
    )
    classifier.fit(*catalog, batch_size=args.batch_size, epochs=args.epochs, verbose=0)
    return penultimate_model(classifier)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=60000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--dimension", type=int, default=64)
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--losses", default="triplet,contrastive")
    args = parser.parse_args()
    start = time.perf_counter()
    _, splits = load_dataset("fashion_mnist", data_locations_from_environment())
    catalog = (splits[TRAIN].images[: args.examples], splits[TRAIN].labels[: args.examples])
    queries = (splits[TEST].images[: args.queries], splits[TEST].labels[: args.queries])

    def scored(model) -> float:
        vectors = [model.predict(x, batch_size=512, verbose=0) for x, _ in (catalog, queries)]
        return precision_at(10, vectors[0], catalog[1], vectors[1], queries[1])

    def pixels(images):  # the index normalises them
        return images.reshape(len(images), -1).astype(np.float32)

    results = {
        "raw_pixels": {
            "precision_at_10": mean_std(
                [precision_at(10, pixels(catalog[0]), catalog[1], pixels(queries[0]), queries[1])]
            )
        }
    }
    for name in filter(None, args.losses.split(",")):
        runs = [scored(trained_embedder(name, catalog, args, seed)) for seed in range(args.seeds)]
        results[name] = {"precision_at_10": mean_std(runs), "per_seed": [round(p, 4) for p in runs]}
    penultimate = [scored(trained_penultimate(catalog, args, seed)) for seed in range(args.seeds)]
    results["classifier_penultimate"] = {
        "precision_at_10": mean_std(penultimate),
        "per_seed": [round(p, 4) for p in penultimate],
    }
    print(
        json.dumps(
            {
                "bench": "metric_losses",
                "catalog": len(catalog[1]),
                "queries": len(queries[1]),
                "epochs": args.epochs,
                "dimension": args.dimension,
                "models": results,
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
