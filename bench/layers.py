"""Train-step throughput of convseq's layers vs their Keras counterparts.

For each pair, in this one process, alternating rounds: forward + backward
(gradients of a mean-square loss w.r.t. the layer's weights) in a
`tf.function`, recurrent layers at batch 64, T = 100, input 64, units 128;
convolutions on a small CNN (28x28x1, batch 128). Weights are copied so both
compute the same numbers (the max output difference is reported).

Prints one JSON line: steps/s of each, ratio ours/keras (median of rounds).

Usage: python bench/layers.py [--steps N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from models.layers import GRU, LSTM, Conv2D, MaxPool2D, SimpleRNN

BATCH, STEPS_T, FEATURES, UNITS = 64, 100, 64, 128


def recurrent_pair(ours_cls, keras_cls, **kwargs):
    x = keras.Input((STEPS_T, FEATURES))
    ours = keras.Model(x, ours_cls(UNITS, **kwargs)(x))
    reference = keras.Model(x, keras_cls(UNITS, **kwargs)(x))
    reference.set_weights(ours.get_weights())
    data = tf.random.normal((BATCH, STEPS_T, FEATURES), seed=0)
    return ours, reference, data


def cnn(conv, pool):
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            conv(16, 3, padding="same", activation="relu"),
            pool(2),
            conv(32, 3, padding="same", activation="relu"),
            pool(2),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )


def conv_pair():
    ours = cnn(Conv2D, MaxPool2D)
    reference = cnn(keras.layers.Conv2D, keras.layers.MaxPool2D)
    reference.set_weights(ours.get_weights())
    data = tf.random.uniform((128, 28, 28, 1), seed=0)
    return ours, reference, data


def train_step_fn(model):
    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            y = model(x, training=True)
            loss = tf.reduce_mean(tf.square(y))
        return tape.gradient(loss, model.trainable_weights)

    return step


def steps_per_second(step, data, steps):
    start = time.perf_counter()
    for _ in range(steps):
        grads = step(data)
    _ = [g.numpy() for g in grads[:1]]
    return steps / (time.perf_counter() - start)


def compare(name, ours, reference, data, steps, rounds):
    difference = float(np.max(np.abs(ours(data) - reference(data))))
    step_ours, step_ref = train_step_fn(ours), train_step_fn(reference)
    step_ours(data), step_ref(data)  # trace
    ours_rates, ref_rates = [], []
    for _ in range(rounds):
        ours_rates.append(steps_per_second(step_ours, data, steps))
        ref_rates.append(steps_per_second(step_ref, data, steps))
    ours_rate, ref_rate = statistics.median(ours_rates), statistics.median(ref_rates)
    return {
        f"{name}_ours_steps_per_s": round(ours_rate, 2),
        f"{name}_keras_steps_per_s": round(ref_rate, 2),
        f"{name}_ratio": round(ours_rate / ref_rate, 3),
        f"{name}_max_abs_difference": difference,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated subset of layer names")
    args = parser.parse_args()
    pairs = {
        "simple_rnn": lambda: recurrent_pair(SimpleRNN, keras.layers.SimpleRNN),
        "lstm": lambda: recurrent_pair(LSTM, keras.layers.LSTM),
        "gru": lambda: recurrent_pair(GRU, keras.layers.GRU),
        "conv2d": conv_pair,
    }
    selected = [name for name in pairs if not args.only or name in args.only.split(",")]
    figures = {
        "bench": "layers",
        "batch": BATCH,
        "timesteps": STEPS_T,
        "features": FEATURES,
        "units": UNITS,
        "rounds": args.rounds,
        "steps_per_round": args.steps,
    }
    for name in selected:
        figures.update(compare(name, *pairs[name](), args.steps, args.rounds))
    figures.update({"tensorflow": tf.__version__, "keras": keras.__version__})
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
