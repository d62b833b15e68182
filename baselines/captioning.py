"""Captioning baselines: the caption of the nearest training image, the most frequent caption.

What a practitioner tries before a captioning network: retrieve the caption
of the training image closest in raw pixels (1-NN, squared Euclidean
distance) and, as the floor, predict the most frequent training caption for
every image. Both train on the task's training split and predict one
caption per test image, scored like the captioner.

Example:
    >>> nearest_image_captions(train.images, train.captions, test.images)
    >>> most_frequent_caption(train.captions)
"""

from __future__ import annotations

import collections
from collections.abc import Sequence

import numpy as np

from common.validation import check_positive_int


def _pixels(name: str, images) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a non-empty array [n, ...] of "
            f"images. Received shape {images.shape}."
        )
    return images.reshape(len(images), -1).astype(np.float32)


def nearest_neighbours(train_images, test_images, batch_size: int = 512) -> np.ndarray:
    """For each test image, the index of the closest training image in pixel space.

    Distance is squared Euclidean on the raw pixels; ties go to the lower
    index. Test images are compared ``batch_size`` at a time.

    Raises:
        ValueError: On empty images, differing image sizes or a bad ``batch_size``.
    """
    check_positive_int("batch_size", batch_size)
    train, test = _pixels("train_images", train_images), _pixels("test_images", test_images)
    if train.shape[1] != test.shape[1]:
        raise ValueError(
            "Expected test images of the training images' size. Received "
            f"{np.shape(test_images)[1:]} test vs {np.shape(train_images)[1:]} train."
        )
    squared = np.sum(train**2, axis=1)
    nearest = []
    for start in range(0, len(test), batch_size):
        batch = test[start : start + batch_size]
        # |a - b|^2 = |a|^2 - 2ab + |b|^2; |a|^2 is the same for every candidate of a row.
        nearest.append(np.argmin(squared[None, :] - 2.0 * batch @ train.T, axis=1))
    return np.concatenate(nearest)


def nearest_image_captions(
    train_images, train_captions: Sequence[Sequence[str]], test_images
) -> list[str]:
    """The 1-NN baseline: the first caption of each test image's nearest training image.

    Raises:
        ValueError: If images and captions differ in number (and as `nearest_neighbours`).
    """
    if len(train_captions) != len(train_images):
        raise ValueError(
            f"Expected one caption list per training image. Received {len(train_captions)} "
            f"caption lists for {len(train_images)} images."
        )
    return [train_captions[i][0] for i in nearest_neighbours(train_images, test_images)]


def most_frequent_caption(train_captions: Sequence[Sequence[str]]) -> str:
    """The training caption seen most often (the first seen among ties).

    Raises:
        ValueError: If there is no caption.
    """
    counts = collections.Counter(c for captions in train_captions for c in captions)
    if not counts:
        raise ValueError("Expected at least one training caption. Received none.")
    return counts.most_common(1)[0][0]
