"""Training throughput of convseq's pipeline vs a plain hand-written Keras script.

Both train the same CNN shape on the same Fashion-MNIST images in this one
process, alternating epochs so machine noise hits both alike:

- ours: catalog -> `build_input_pipelines` (cached, seeded shuffle, prefetch,
  raw uint8) -> `small_cnn` built from convseq's Conv2D/MaxPool2D;
- plain: NumPy float32 arrays scaled in NumPy -> `model.fit` -> a Sequential
  of `keras.layers.Conv2D`/`MaxPool2D`.

Prints one JSON line: images/s of each (median over rounds), their ratio,
achieved GFLOP/s of ours against a measured fp32 matmul peak.

Usage: python bench/train_throughput.py [--examples N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import keras
import tensorflow as tf

from data.specs import TRAIN
from pipelines.cli import data_locations_from_environment
from pipelines.config import TrainConfig
from pipelines.tasks.classify import build_model, load_data


def plain_keras_model(config: TrainConfig, input_shape, classes) -> keras.Model:
    layers = [keras.Input(input_shape)]
    for block_filters in config.filters:
        layers += [
            keras.layers.Conv2D(
                block_filters,
                config.kernel_size,
                strides=config.stride,
                padding=config.padding,
                activation="relu",
            ),
            keras.layers.MaxPool2D(2),
        ]
    layers += [
        keras.layers.Flatten(),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(classes, activation="softmax"),
    ]
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def forward_flops_per_image(model: keras.Model) -> int:
    """Multiply-adds x 2 of conv and dense layers for one image."""
    flops = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            flops += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif hasattr(layer, "kernel") and len(layer.kernel.shape) == 4:
            f_h, f_w, c_in, c_out = layer.kernel.shape
            _, h_out, w_out, _ = layer.output.shape
            flops += 2 * h_out * w_out * c_out * f_h * f_w * c_in
    return flops


def matmul_peak_gflops(n: int = 2048, repeats: int = 10) -> float:
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    tf.matmul(a, b).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tf.matmul(a, b).numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / min(times) / 1e9


def timed_epoch(fit) -> float:
    start = time.perf_counter()
    fit()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=12800)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    config = TrainConfig(max_examples=args.examples)
    spec, splits, pipes = load_data(config, data_locations_from_environment())
    n_train = pipes.train_size
    train = splits[TRAIN]
    x_plain = train.images[:n_train].astype("float32") / 255.0
    y_plain = train.labels[:n_train]

    keras.utils.set_random_seed(config.seed)
    ours = build_model(config, (spec, splits, pipes))
    plain = plain_keras_model(config, spec.input_shape, spec.num_classes)
    assert ours.count_params() == plain.count_params()

    def fit_ours():
        ours.fit(pipes.train, epochs=1, shuffle=False, verbose=0)

    def fit_plain():
        plain.fit(x_plain, y_plain, batch_size=config.batch_size, epochs=1, shuffle=True, verbose=0)

    fit_ours()  # trace and warm caches
    fit_plain()
    ours_rates, plain_rates = [], []
    for _ in range(args.rounds):
        ours_rates.append(n_train / timed_epoch(fit_ours))
        plain_rates.append(n_train / timed_epoch(fit_plain))
    ours_rate = statistics.median(ours_rates)
    plain_rate = statistics.median(plain_rates)

    train_flops = 3 * forward_flops_per_image(ours)  # forward + two backward products
    achieved = ours_rate * train_flops / 1e9
    peak = matmul_peak_gflops()
    print(
        json.dumps(
            {
                "bench": "train_throughput",
                "dataset": config.dataset,
                "examples": n_train,
                "batch_size": config.batch_size,
                "filters": list(config.filters),
                "rounds": args.rounds,
                "ours_images_per_s": round(ours_rate, 1),
                "keras_images_per_s": round(plain_rate, 1),
                "ratio": round(ours_rate / plain_rate, 3),
                "ours_rounds": [round(r, 1) for r in ours_rates],
                "keras_rounds": [round(r, 1) for r in plain_rates],
                "train_mflop_per_image": round(train_flops / 1e6, 2),
                "ours_gflops": round(achieved, 1),
                "matmul_peak_gflops": round(peak, 1),
                "fraction_of_peak": round(achieved / peak, 3),
                "tensorflow": tf.__version__,
                "keras": keras.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
