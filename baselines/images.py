"""Image classification baseline: logistic regression on raw pixels (scikit-learn).

What a practitioner writes before any CNN: flatten the images, scale the
pixels to [0, 1], fit a multinomial logistic regression. It trains on the
very examples the classify task trains on (the same seeded validation draw
is held out, `data.pipeline.split_train_validation`) and is scored on the
same test split, so the bench compares like with like.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

from common.validation import (
    check_fraction,
    check_non_negative_int,
    check_positive,
    check_positive_int,
)
from data.pipeline import split_train_validation
from data.specs import TEST, TRAIN
from data.splits_types import ImageSplit


def pixel_features(images: np.ndarray) -> np.ndarray:
    """Images ``[n, h, w, c]`` (uint8) as ``float32 [n, h * w * c]`` rows in ``[0, 1]``.

    Raises:
        ValueError: If ``images`` has fewer than 2 dimensions.
    """
    images = np.asarray(images)
    if images.ndim < 2:
        raise ValueError(
            "Invalid value for argument `images`. Expected an array [n, ...] of images. "
            f"Received shape {images.shape}."
        )
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def fit_logistic_regression(
    split: ImageSplit, c: float = 1.0, max_iter: int = 200
) -> LogisticRegression:
    """A multinomial logistic regression on the raw pixels of a split (L-BFGS, deterministic).

    Args:
        split: Training images and labels.
        c: Inverse L2 regularization strength (scikit-learn's ``C``).
        max_iter: L-BFGS iterations at most.

    Returns:
        The fitted `sklearn.linear_model.LogisticRegression`.

    Raises:
        ValueError: On a non-positive ``c`` or ``max_iter``.
    """
    check_positive("c", c)
    check_positive_int("max_iter", max_iter)
    model = LogisticRegression(C=c, max_iter=max_iter, tol=1e-4)
    return model.fit(pixel_features(split.images), split.labels)


@dataclasses.dataclass(frozen=True)
class BaselineScore:
    """A baseline's test accuracy and what it cost.

    Attributes:
        test_accuracy: Share of test images classified right.
        train_examples: Images it was fitted on.
        test_examples: Images it was scored on.
        seconds: Wall seconds of fitting and scoring.
    """

    test_accuracy: float
    train_examples: int
    test_examples: int
    seconds: float


def logistic_regression_baseline(
    splits,
    validation_fraction: float = 0.1,
    seed: int = 42,
    c: float = 1.0,
    max_iter: int = 200,
    max_examples: int = 0,
) -> BaselineScore:
    """Fits `fit_logistic_regression` on the classify task's training split; scores its test split.

    Args:
        splits: ``{"train": ImageSplit, "test": ImageSplit}`` (a catalog
            dataset's splits, `data.load_dataset`).
        validation_fraction: The share the classify task holds out (dropped
            here too, so both fit on the same examples).
        seed: The classify task's seed (which examples are held out).
        c: Inverse regularization strength.
        max_iter: L-BFGS iterations at most.
        max_examples: As the classify task's: at most this many training
            (a seeded draw, before the validation share) and test examples (0: all).

    Returns:
        A `BaselineScore`.

    Raises:
        ValueError: On a missing split or a bad argument.

    Example:
        >>> from data import load_dataset
        >>> _, splits = load_dataset("digits")
        >>> logistic_regression_baseline(splits).test_accuracy > 0.9  # doctest: +SKIP
        True
    """
    check_fraction("validation_fraction", validation_fraction)
    check_non_negative_int("max_examples", max_examples)
    missing = [name for name in (TRAIN, TEST) if name not in splits]
    if missing:
        raise ValueError(
            f"Invalid value for argument `splits`. Expected the splits {[TRAIN, TEST]}. "
            f"Received splits with {sorted(splits)}."
        )
    start = time.perf_counter()
    train, _ = split_train_validation(splits[TRAIN], validation_fraction, seed, max_examples)
    model = fit_logistic_regression(train, c=c, max_iter=max_iter)
    images, labels = splits[TEST].images, splits[TEST].labels
    if max_examples:
        images, labels = images[:max_examples], labels[:max_examples]
    accuracy = float(np.mean(model.predict(pixel_features(images)) == labels))
    return BaselineScore(accuracy, len(train), len(labels), time.perf_counter() - start)
