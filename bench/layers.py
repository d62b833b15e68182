"""Train-step throughput of convseq's layers vs their Keras namesakes, one layer per row.

For each row, in this one process, alternating rounds (ours, Keras, ours,
...; the median of each): forward + backward (gradients of a mean-square
loss w.r.t. the layer's weights) in a `tf.function`, ``training=True``.
Recurrent rows: batch 64, T = 100, input 64, units 128 (the bidirectional
rows run both directions, wrapped in `keras.layers.Bidirectional`).
Convolution rows time the convolution alone: Conv1D over (64, 200, 64) with
128 filters of 5, Conv2D over (128, 28, 28, 16) with 32 filters of 3x3,
both ``padding="same"``. Weights are copied so both compute the same
numbers (the max output difference is reported).

Each round runs at least ``--steps`` steps and at least ``--seconds`` (the
step count per row is reported). Prints one JSON line: steps/s of each,
ratio ours/keras per row.

Usage: python bench/layers.py [--steps N] [--rounds R] [--seconds S] [--only lstm,gru]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from models.layers import GRU, LSTM, Conv1D, Conv2D, SimpleRNN

BATCH, STEPS_T, FEATURES, UNITS = 64, 100, 64, 128


def layer_pair(ours_layer, keras_layer, input_shape, batch):
    """Two one-layer models with the same weights and one batch of inputs."""
    x = keras.Input(input_shape)
    ours = keras.Model(x, ours_layer(x))
    reference = keras.Model(x, keras_layer(x))
    reference.set_weights(ours.get_weights())
    data = tf.random.normal((batch, *input_shape), seed=0)
    return ours, reference, data


def recurrent_pair(ours_cls, keras_cls, bidirectional=False):
    def build(layer_class):
        layer = layer_class(UNITS)
        return keras.layers.Bidirectional(layer) if bidirectional else layer

    return layer_pair(build(ours_cls), build(keras_cls), (STEPS_T, FEATURES), BATCH)


def conv_pair(ours_cls, keras_cls, input_shape, batch, filters, kernel_size):
    arguments = {"filters": filters, "kernel_size": kernel_size, "padding": "same"}
    return layer_pair(ours_cls(**arguments), keras_cls(**arguments), input_shape, batch)


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


def compare(name, ours, reference, data, steps, rounds, seconds):
    difference = float(np.max(np.abs(ours(data) - reference(data))))
    step_ours, step_ref = train_step_fn(ours), train_step_fn(reference)
    step_ours(data), step_ref(data)  # trace
    # Rounds of at least `seconds` each, from a first timing of the slower one,
    # so that fast rows are not a handful of milliseconds of a noisy machine.
    slower = min(steps_per_second(step_ours, data, 2), steps_per_second(step_ref, data, 2))
    steps = max(steps, math.ceil(seconds * slower))
    ours_rates, ref_rates = [], []
    for _ in range(rounds):
        ours_rates.append(steps_per_second(step_ours, data, steps))
        ref_rates.append(steps_per_second(step_ref, data, steps))
    ours_rate, ref_rate = statistics.median(ours_rates), statistics.median(ref_rates)
    return {
        f"{name}_ours_steps_per_s": round(ours_rate, 2),
        f"{name}_keras_steps_per_s": round(ref_rate, 2),
        f"{name}_ratio": round(ours_rate / ref_rate, 3),
        f"{name}_steps_per_round": steps,
        f"{name}_max_abs_difference": difference,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="least time of one round (more steps if needed)"
    )
    parser.add_argument("--only", default="", help="comma-separated subset of layer names")
    args = parser.parse_args()
    pairs = {
        "simple_rnn": lambda: recurrent_pair(SimpleRNN, keras.layers.SimpleRNN),
        "lstm": lambda: recurrent_pair(LSTM, keras.layers.LSTM),
        "gru": lambda: recurrent_pair(GRU, keras.layers.GRU),
        "bidirectional_lstm": lambda: recurrent_pair(LSTM, keras.layers.LSTM, True),
        "bidirectional_gru": lambda: recurrent_pair(GRU, keras.layers.GRU, True),
        "conv1d": lambda: conv_pair(Conv1D, keras.layers.Conv1D, (200, 64), 64, 128, 5),
        "conv2d": lambda: conv_pair(Conv2D, keras.layers.Conv2D, (28, 28, 16), 128, 32, 3),
    }
    selected = [name for name in pairs if not args.only or name in args.only.split(",")]
    figures = {
        "bench": "layers",
        "batch": BATCH,
        "timesteps": STEPS_T,
        "features": FEATURES,
        "units": UNITS,
        "rounds": args.rounds,
        "min_steps_per_round": args.steps,
        "min_seconds_per_round": args.seconds,
    }
    for name in selected:
        figures.update(compare(name, *pairs[name](), args.steps, args.rounds, args.seconds))
    figures.update({"tensorflow": tf.__version__, "keras": keras.__version__})
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
