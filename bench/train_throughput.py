"""Training throughput: our layers vs Keras's, our pipeline vs NumPy, and a compute-bound CNN.

Everything runs in this one process. After one untimed warm-up fit each
(tracing, filling the pipeline's cache), every round times one ``model.fit``
of each run below, in an order rotated each round so that machine noise hits
every run alike; each figure is the median over rounds, in images/s.

1. **Layer ratio** (``layer``): the default classify CNN (the `TrainConfig`
   defaults: Fashion-MNIST 28x28x1, ``filters=16,32``, batch 128), built by
   `models.small_cnn` as the classify task builds it, once with
   ``conv_layer="convseq"`` and once with ``"keras"``, with identical weights (copied; the max
   output difference is reported), both fed by the same project tf.data
   pipeline (`data.build_input_pipelines`: cached, seeded shuffle, batched,
   prefetched, raw uint8 scaled inside the model), for the same number of
   steps. ``ratio`` = ours / keras: 1.0 means our layers cost nothing extra.
2. **Pipeline ratio** (``pipeline``): our model fed by that pipeline vs a copy
   of it (same weights) fitted on the same uint8 images held as NumPy arrays
   (``fit(x, y, batch_size=..., shuffle=True)``), same batch size and steps.
   ``ratio`` = pipeline / numpy: 1.0 means the input pipeline costs no more
   than Keras's own in-memory path. The ``pipeline`` figure is the same timed
   fit as the layer ratio's ``ours``.
3. **Compute-bound shape** (``compute_bound``): a CNN of 32/64/128 filters
   (3x3, same padding, 2x2 max-pool after each) at batch 256 on 28x28x1,
   ours vs Keras as in 1, plus the achieved FLOP/s as a fraction of the fp32
   matmul peak measured in this process (a 2048x2048 ``tf.linalg.matmul`` in
   a `tf.function`, best of several calls, each round). FLOPs of a train step
   are counted from the layer shapes (`forward_flops_per_image`): forward
   = 2 x multiply-adds of the conv and dense layers; the backward pass costs
   about 2x the forward (one product for the input gradient, one for the
   weight gradient), so a train step is about 3x the forward. The fraction
   uses the median images/s and the best peak of all rounds.

Prints one JSON line: ``{"bench": "train_throughput", "layer": {...},
"pipeline": {...}, "compute_bound": {...}, "rounds": R, ...}``.

Usage:
    python bench/train_throughput.py                        # defaults (a few minutes on 2 cores)
    python bench/train_throughput.py --steps 5 --compute_steps 2 --rounds 2   # smoke check
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from data import build_input_pipelines, load_dataset
from data.specs import TEST, TRAIN, VALIDATION
from models import small_cnn
from pipelines.cli import data_locations_from_environment
from pipelines.config import TrainConfig
from pipelines.fitting import compile_classifier

COMPUTE_FILTERS = (32, 64, 128)
COMPUTE_BATCH = 256
MATMUL_N = 2048
MATMUL_CALLS = 5


def layer_pair(
    build: Callable, config: TrainConfig, probe
) -> tuple[keras.Model, keras.Model, float]:
    """Ours and Keras's model (``build(conv_layer)``), same weights, compiled as classify does.

    Also returns the max |output difference| on ``probe``.
    """
    ours, reference = build("convseq"), build("keras")
    reference.set_weights(ours.get_weights())
    difference = float(np.max(np.abs(ours(probe) - reference(probe))))
    for model in (ours, reference):
        compile_classifier(model, config, config.learning_rate)
    return ours, reference, difference


def forward_flops_per_image(model: keras.Model) -> int:
    """FLOPs of one image's forward pass: 2 x the multiply-adds of conv and dense layers.

    A conv output element is a dot product over its ``f_h * f_w * c_in``
    window, and there are ``h_out * w_out * c_out`` of them; a dense layer
    does ``n_in * n_out``. Bias adds, activations, pooling and the softmax are
    left out (well under 1% here). The backward pass is about 2x this.
    """
    macs = 0
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is None:
            continue
        if len(kernel.shape) == 4:  # conv kernel (f_h, f_w, c_in, c_out)
            f_h, f_w, c_in, c_out = kernel.shape
            _, h_out, w_out, _ = layer.output.shape
            macs += h_out * w_out * c_out * f_h * f_w * c_in
        else:  # dense kernel (n_in, n_out)
            n_in, n_out = kernel.shape
            macs += n_in * n_out
    return 2 * macs


def matmul_peak_gflops(a: tf.Tensor, b: tf.Tensor, product: Callable) -> float:
    """fp32 GFLOP/s of the best of `MATMUL_CALLS` timed ``a @ b`` (``2 n^3`` FLOPs each)."""
    best = float("inf")
    for _ in range(MATMUL_CALLS):
        start = time.perf_counter()
        product(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] / best / 1e9


def pipeline_for(splits, batch_size: int, steps: int, seed: int) -> tf.data.Dataset:
    """The project's training pipeline over exactly ``steps`` full batches (one epoch)."""
    images = steps * batch_size
    if images > len(splits[TRAIN]):
        raise SystemExit(
            f"train_throughput.py: error: {steps} steps of {batch_size} need {images} images; "
            f"the training split has {len(splits[TRAIN])}."
        )
    # The test split stands in as validation so that no training images are drawn off.
    held_out = {TRAIN: splits[TRAIN], VALIDATION: splits[TEST], TEST: splits[TEST]}
    pipes = build_input_pipelines(held_out, batch_size=batch_size, seed=seed, max_examples=images)
    return pipes.train


def figures(rates: dict[str, list[float]], ours: str, other: str, names=("ours", "keras")):
    """Median images/s of two runs, their ratio and the per-round figures."""
    first, second = statistics.median(rates[ours]), statistics.median(rates[other])
    return {
        f"{names[0]}_img_s": round(first, 1),
        f"{names[1]}_img_s": round(second, 1),
        "ratio": round(first / second, 3),
        f"{names[0]}_rounds": [round(r, 1) for r in rates[ours]],
        f"{names[1]}_rounds": [round(r, 1) for r in rates[other]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per fit, default CNN")
    parser.add_argument(
        "--compute_steps", type=int, default=20, help="steps per fit, compute-bound CNN"
    )
    parser.add_argument("--rounds", type=int, default=5, help="alternating timed rounds")
    args = parser.parse_args()
    for name in ("steps", "compute_steps", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1; received {getattr(args, name)}")

    config = TrainConfig()
    spec, splits = load_dataset(config.dataset, data_locations_from_environment())
    keras.utils.set_random_seed(config.seed)
    probe = splits[TEST].images[:32]

    # 1 and 2: the default classify CNN (`pipelines.tasks.classify.build_model`'s layout).
    def default_cnn(conv_layer):
        return small_cnn(
            input_shape=spec.input_shape,
            classes=spec.num_classes,
            filters=config.filters,
            kernel_size=config.kernel_size,
            strides=config.stride,
            padding=config.padding,
            conv_layer=conv_layer,
        )

    ours, reference, difference = layer_pair(default_cnn, config, probe)
    ours_numpy = default_cnn("convseq")
    compile_classifier(ours_numpy, config, config.learning_rate)
    ours_numpy.set_weights(ours.get_weights())
    batch = config.batch_size
    train = pipeline_for(splits, batch, args.steps, config.seed)
    x = splits[TRAIN].images[: args.steps * batch]  # the images the pipeline reads
    y = splits[TRAIN].labels[: args.steps * batch]

    # 3: the compute-bound CNN, through the same kind of pipeline.
    def wide_cnn(conv_layer):
        return small_cnn(
            input_shape=spec.input_shape,
            classes=spec.num_classes,
            filters=COMPUTE_FILTERS,
            conv_layer=conv_layer,
        )

    wide_ours, wide_reference, wide_difference = layer_pair(wide_cnn, config, probe)
    wide_train = pipeline_for(splits, COMPUTE_BATCH, args.compute_steps, config.seed)

    def on_pipeline(model, dataset):
        return lambda: model.fit(dataset, epochs=1, shuffle=False, verbose=0)

    runs = {  # name: (one fit, images it trains on)
        "ours": (on_pipeline(ours, train), args.steps * batch),
        "keras": (on_pipeline(reference, train), args.steps * batch),
        "numpy": (
            lambda: ours_numpy.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0),
            args.steps * batch,
        ),
        "wide_ours": (on_pipeline(wide_ours, wide_train), args.compute_steps * COMPUTE_BATCH),
        "wide_keras": (
            on_pipeline(wide_reference, wide_train),
            args.compute_steps * COMPUTE_BATCH,
        ),
    }
    a = tf.random.normal((MATMUL_N, MATMUL_N), seed=1)
    b = tf.random.normal((MATMUL_N, MATMUL_N), seed=2)
    # The sum keeps the 16 MB product inside the function (n^2 adds against 2 n^3 FLOPs).
    product = tf.function(lambda a, b: tf.reduce_sum(tf.linalg.matmul(a, b)))

    clock = time.perf_counter()
    for fit, _ in runs.values():  # warm-up: trace, fill the pipelines' caches
        fit()
    product(a, b).numpy()
    print(f"warm-up: {time.perf_counter() - clock:.1f} s", file=sys.stderr, flush=True)
    rates = {name: [] for name in runs}
    peaks = []
    names = list(runs)
    for round_index in range(args.rounds):
        clock = time.perf_counter()
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            fit, images = runs[name]
            start = time.perf_counter()
            fit()
            rates[name].append(images / (time.perf_counter() - start))
        peaks.append(matmul_peak_gflops(a, b, product))
        print(
            f"round {round_index + 1}/{args.rounds}: {time.perf_counter() - clock:.1f} s",
            file=sys.stderr,
            flush=True,
        )

    forward = forward_flops_per_image(wide_ours)
    train_step = 3 * forward  # forward + backward (about 2x forward)
    peak = max(peaks)
    wide = figures(rates, "wide_ours", "wide_keras")
    ours_gflops = wide["ours_img_s"] * train_step / 1e9
    keras_gflops = wide["keras_img_s"] * train_step / 1e9
    result = {
        "bench": "train_throughput",
        "dataset": spec.name,
        "rounds": args.rounds,
        "layer": {
            "filters": list(config.filters),
            "batch_size": batch,
            "steps": args.steps,
            **figures(rates, "ours", "keras"),
            "max_abs_output_difference": difference,
        },
        "pipeline": {
            "batch_size": batch,
            "steps": args.steps,
            **figures(rates, "ours", "numpy", names=("pipeline", "numpy")),
        },
        "compute_bound": {
            "filters": list(COMPUTE_FILTERS),
            "input_shape": list(spec.input_shape),
            "batch_size": COMPUTE_BATCH,
            "steps": args.compute_steps,
            **wide,
            "max_abs_output_difference": wide_difference,
            "forward_mflop_per_image": round(forward / 1e6, 2),
            "train_mflop_per_image": round(train_step / 1e6, 2),
            "ours_gflops": round(ours_gflops, 1),
            "keras_gflops": round(keras_gflops, 1),
            "peak_gflops": round(peak, 1),
            "peak_rounds": [round(p, 1) for p in peaks],
            "fraction_of_peak": round(ours_gflops / peak, 3),
            "keras_fraction_of_peak": round(keras_gflops / peak, 3),
        },
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
