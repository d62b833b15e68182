"""tf.data input pipelines: train/validation/test splits, batched and prefetched."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import tensorflow as tf

from common.validation import check_fraction, check_positive_int
from data.specs import TEST, TRAIN, VALIDATION
from data.splits_types import ImageSplit


@dataclasses.dataclass(frozen=True)
class InputPipelines:
    """The three datasets a training run reads, and their sizes.

    Attributes:
        train: Shuffled (seeded, reshuffled each epoch) batches of
            ``(images, labels)``.
        validation: Batches held out of the training split.
        test: Batches of the test split.
        train_size: Examples in ``train``.
        validation_size: Examples in ``validation``.
        test_size: Examples in ``test``.
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    train_size: int
    validation_size: int
    test_size: int


def drawn_order(size: int, seed: int, max_examples: int = 0) -> np.ndarray:
    """The seeded order in which a training split's examples are drawn (first ``max_examples``).

    `split_train_validation` holds the first of them out for validation; a
    task that needs the very examples a run trained on draws them the same way.
    """
    order = np.random.default_rng(seed).permutation(size)
    return order[:max_examples] if max_examples else order


def split_train_validation(
    split: ImageSplit, validation_fraction: float, seed: int, max_examples: int = 0
) -> tuple[ImageSplit, ImageSplit]:
    """Draws a seeded validation split out of a training split.

    Args:
        split: The full training split.
        validation_fraction: Share of examples held out, in ``(0, 1)``.
        seed: Seed of the draw.
        max_examples: If positive, use only this many examples (a seeded
            subset) before splitting.

    Returns:
        ``(train, validation)``.

    Raises:
        ValueError: If the fraction is out of range or leaves a split empty.
    """
    check_fraction("validation_fraction", validation_fraction)
    order = drawn_order(len(split), seed, max_examples)
    n_validation = int(round(len(order) * validation_fraction))
    if n_validation < 1 or n_validation >= len(order):
        raise ValueError(
            f"validation_fraction={validation_fraction} of {len(order)} examples leaves "
            f"{n_validation} for validation and {len(order) - n_validation} for training; "
            "both need at least one. Use more examples or another fraction."
        )
    validation, train = np.sort(order[:n_validation]), np.sort(order[n_validation:])
    return (
        ImageSplit(split.images[train], split.labels[train]),
        ImageSplit(split.images[validation], split.labels[validation]),
    )


def _take(split: ImageSplit, max_examples: int) -> ImageSplit:
    if not max_examples or max_examples >= len(split):
        return split
    return ImageSplit(split.images[:max_examples], split.labels[:max_examples])


def array_batches(arrays, batch_size: int, shuffle_seed: int | None = None) -> tf.data.Dataset:
    """Batches of in-memory arrays (a tuple, or a dict for named model inputs).

    Args:
        arrays: What `tf.data.Dataset.from_tensor_slices` takes: ``(x, y)``,
            ``(x, y, sample_weight)``, with ``x`` an array or a dict of arrays.
        batch_size: Examples per batch.
        shuffle_seed: Shuffle with this seed, a new order each epoch (the
            same sequence of orders each run); None: keep the order.

    Returns:
        The batched, prefetched dataset.
    """
    check_positive_int("batch_size", batch_size)
    dataset = tf.data.Dataset.from_tensor_slices(arrays)
    if shuffle_seed is not None:
        dataset = dataset.shuffle(
            int(dataset.cardinality()), seed=shuffle_seed, reshuffle_each_iteration=True
        )
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _batched(split: ImageSplit, batch_size: int) -> tf.data.Dataset:
    dataset = tf.data.Dataset.from_tensor_slices((split.images, split.labels))
    return dataset.batch(batch_size).cache().prefetch(tf.data.AUTOTUNE)


def training_splits(
    splits: Mapping[str, ImageSplit],
    validation_fraction: float = 0.1,
    seed: int = 0,
    max_examples: int = 0,
) -> tuple[ImageSplit, ImageSplit, ImageSplit]:
    """``(train, validation, test)``: what `build_input_pipelines` trains, validates, tests on.

    A ``"validation"`` split in ``splits`` is used as is (its first
    ``max_examples``); else one is drawn from ``"train"``
    (`split_train_validation`). The test split is its first ``max_examples``.

    Raises:
        ValueError: On a missing split or an invalid argument.
    """
    missing = [name for name in (TRAIN, TEST) if name not in splits]
    if missing:
        raise ValueError(f"The splits {missing} are missing; received {sorted(splits)}.")
    if VALIDATION in splits:  # the data comes with its own validation split
        train = _take(splits[TRAIN], max_examples)
        validation = _take(splits[VALIDATION], max_examples)
    else:
        train, validation = split_train_validation(
            splits[TRAIN], validation_fraction, seed, max_examples
        )
    return train, validation, _take(splits[TEST], max_examples)


def build_input_pipelines(
    splits: Mapping[str, ImageSplit],
    *,
    batch_size: int,
    validation_fraction: float = 0.1,
    seed: int = 0,
    max_examples: int = 0,
) -> InputPipelines:
    """Builds the train, validation and test `tf.data.Dataset`s.

    Images stay raw (``uint8``); scaling lives inside the model. The training
    dataset is cached, shuffled with ``seed`` (a new order each epoch, the
    same sequence of orders each run), batched and prefetched.

    Args:
        splits: Must hold ``"train"`` and ``"test"`` `ImageSplit`s; a
            ``"validation"`` split, if present, is used as is instead of
            drawing one from ``"train"``.
        batch_size: Examples per batch.
        validation_fraction: Share of the training split held out for
            validation.
        seed: Seed for the validation draw and the shuffle.
        max_examples: If positive, use at most this many examples of the
            training split and of the test split (for quick runs).

    Returns:
        An `InputPipelines`.

    Raises:
        ValueError: On a missing split or an invalid argument.

    Example:
        >>> from data import load_dataset
        >>> _, splits = load_dataset("digits")
        >>> pipes = build_input_pipelines(splits, batch_size=32)
        >>> pipes.train_size + pipes.validation_size
        1438
    """
    check_positive_int("batch_size", batch_size)
    if max_examples < 0:
        raise ValueError(
            "Invalid value for argument `max_examples`. Expected 0 (all) or a positive "
            f"integer. Received max_examples={max_examples!r}."
        )
    train, validation, test = training_splits(splits, validation_fraction, seed, max_examples)
    train_dataset = (
        tf.data.Dataset.from_tensor_slices((train.images, train.labels))
        .cache()
        .shuffle(len(train), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    return InputPipelines(
        train=train_dataset,
        validation=_batched(validation, batch_size),
        test=_batched(test, batch_size),
        train_size=len(train),
        validation_size=len(validation),
        test_size=len(test),
    )
