"""Serving latency and throughput of exported SavedModels, in process.

Exports the default CNN (``filters=16,32`` on 28x28x1, as ``train`` builds it)
and the default sentiment model (embedding 64 -> our LSTM 64, a vocabulary of
20,000, 64 tokens), loads each SavedModel with `tf.saved_model.load` and
calls its ``serve`` function: p50/p99 latency at batch 1 (after warm-up) and
throughput at batch 64. Weights are untrained (the time does not depend on
them). Prints one JSON line.

Usage: python bench/serving.py [--calls 300]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np
import tensorflow as tf

from models import small_cnn
from models.recurrent import RecurrentSpec
from models.sentiment import sentiment_classifier, text_vectorizer
from pipelines.export import export_image_classifier, export_text_classifier

WORDS = "the a film movie good bad great awful plot acting story slow funny dull sharp".split()


def _latency_ms(serve, make_batch, calls: int) -> tuple[float, float]:
    for _ in range(20):
        serve(make_batch(1))
    times = []
    for _ in range(calls):
        batch = make_batch(1)
        start = time.perf_counter()
        serve(batch)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def _throughput(serve, make_batch, batches: int) -> float:
    batch = make_batch(64)
    serve(batch)
    start = time.perf_counter()
    for _ in range(batches):
        serve(batch)
    return 64 * batches / (time.perf_counter() - start)


def _figures(path, make_batch, calls: int) -> dict:
    loaded = tf.saved_model.load(str(path))
    p50, p99 = _latency_ms(loaded.serve, make_batch, calls)
    return {
        "p50_ms_batch_1": round(p50, 2),
        "p99_ms_batch_1": round(p99, 2),
        "per_second_batch_64": round(_throughput(loaded.serve, make_batch, calls // 10 + 5)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        cnn = small_cnn(input_shape=(28, 28, 1), classes=10, filters=(16, 32), name="cnn")
        cnn_path = export_image_classifier(cnn, folder, "cnn", [str(i) for i in range(10)])

        def images(n):
            return tf.constant(rng.integers(0, 256, size=(n, 28, 28, 1), dtype=np.uint8))

        vectorizer = text_vectorizer(20000, 64)
        vectorizer.adapt([" ".join(rng.choice(WORDS, 20)) for _ in range(200)])
        rnn = sentiment_classifier(20000, 2, recurrent=RecurrentSpec("lstm", 64), name="rnn")
        rnn(vectorizer(tf.constant(["a first call builds every layer"])))
        text_path = export_text_classifier(vectorizer, rnn, folder, "rnn", ["rotten", "fresh"])

        def texts(n):
            return tf.constant([" ".join(rng.choice(WORDS, 30)) for _ in range(n)])

        results = {
            "cnn_fashion_mnist_28x28": _figures(cnn_path, images, args.calls),
            "sentiment_lstm_30_words": _figures(text_path, texts, args.calls),
        }
    print(json.dumps({"bench": "serving", "device": "cpu", "calls": args.calls, **results}))


if __name__ == "__main__":
    main()
