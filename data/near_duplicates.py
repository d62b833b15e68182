"""Near-duplicate copies of images: what a reverse image search must still match.

Each copy is its original cropped (a random box keeping ``min_area`` of it,
resized back), maybe flipped left-right, brightened or darkened, and
re-encoded as JPEG (`altered_copy`, in the TensorFlow graph). Used two ways:

- `near_duplicates`: seeded copies of a set of images, as queries whose
  right answer is known exactly (the item they were made from);
- `with_altered_copies`: training batches joined by a copy of each image,
  so an embedding learns to find a catalog item from an altered copy.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from common.validation import check_fraction, check_positive_int, check_rate

COPY_GROUP = 1
"""Column of a `with_altered_copies` label holding the copy group (the class is column 0)."""
MIN_AREA, MAX_BRIGHTNESS, JPEG_QUALITY = 0.8, 0.2, 75
"""The alterations' defaults: crops keep 80 % of the image or more, brightness moves by up to
20 % of the range, JPEG quality 75."""


def _check_alterations(min_area: float, max_brightness: float, jpeg_quality: int) -> None:
    if min_area != 1:
        check_fraction("min_area", min_area)
    check_rate("max_brightness", max_brightness)
    if check_positive_int("jpeg_quality", jpeg_quality) > 100:
        raise ValueError(
            "Invalid value for argument `jpeg_quality`. Expected 1-100. "
            f"Received jpeg_quality={jpeg_quality}."
        )


def altered_copy(
    image, seed, min_area=MIN_AREA, max_brightness=MAX_BRIGHTNESS, jpeg_quality=JPEG_QUALITY
):
    """One altered copy of a ``uint8 [height, width, channels]`` image (1 or 3 channels).

    Args:
        image: The original.
        seed: ``int32 [2]`` stateless seed: the same seed alters the same way.
        min_area: Smallest share of the image a crop keeps, in ``(0, 1]``.
        max_brightness: Largest brightness change, a share of the 0-255 range.
        jpeg_quality: JPEG quality of the re-encoding (1-100).

    Returns:
        The ``uint8`` copy, same shape.
    """
    draws = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    side = tf.sqrt(tf.random.stateless_uniform((), draws[0], min_area, 1.0))

    def length(n):
        return tf.maximum(1, tf.cast(tf.round(tf.cast(n, tf.float32) * side), tf.int32))

    crop_h, crop_w = length(height), length(width)
    top = tf.random.stateless_uniform((), draws[1], 0, height - crop_h + 1, dtype=tf.int32)
    left = tf.random.stateless_uniform((), draws[2], 0, width - crop_w + 1, dtype=tf.int32)
    crop = tf.cast(image[top : top + crop_h, left : left + crop_w], tf.float32)
    altered = tf.image.resize(crop, (height, width))
    flip = tf.random.stateless_uniform((), draws[3]) < 0.5
    altered = tf.where(flip, tf.reverse(altered, axis=[1]), altered)
    shift = 255.0 * tf.random.stateless_uniform((), draws[4], -max_brightness, max_brightness)
    altered = tf.cast(tf.clip_by_value(tf.round(altered + shift), 0, 255), tf.uint8)
    return tf.image.adjust_jpeg_quality(altered, jpeg_quality)


def near_duplicates(
    images: np.ndarray,
    seed: int = 0,
    min_area: float = MIN_AREA,
    max_brightness: float = MAX_BRIGHTNESS,
    jpeg_quality: int = JPEG_QUALITY,
) -> np.ndarray:
    """Altered copies of ``uint8 [n, height, width, channels]`` images, same shape.

    Args:
        images: The originals (1 or 3 channels).
        seed: Seed of the random alterations (copy ``i`` uses ``(seed, i)``).
        min_area: Smallest share of the image a crop keeps, in ``(0, 1]``.
        max_brightness: Largest brightness change, a share of the 0-255 range.
        jpeg_quality: JPEG quality of the re-encoding (1-100).

    Returns:
        ``uint8`` copies, one per image, in order.

    Raises:
        ValueError: On a bad argument, naming it.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            "Invalid value for argument `images`. Expected uint8 images of shape (n, height, "
            f"width, 1 or 3). Received {images.dtype} of shape {images.shape}."
        )
    _check_alterations(min_area, max_brightness, jpeg_quality)
    seeds = np.stack([np.full(len(images), seed), np.arange(len(images))], axis=1)

    def alter(pair):
        return altered_copy(pair[0], pair[1], min_area, max_brightness, jpeg_quality)

    copies = tf.map_fn(
        alter,
        (tf.constant(images), tf.constant(seeds, tf.int64)),
        fn_output_signature=tf.TensorSpec(images.shape[1:], tf.uint8),
    )
    return copies.numpy()


def with_altered_copies(
    batches: tf.data.Dataset,
    seed: int = 0,
    min_area: float = MIN_AREA,
    max_brightness: float = MAX_BRIGHTNESS,
    jpeg_quality: int = JPEG_QUALITY,
) -> tf.data.Dataset:
    """Each ``(images, labels)`` batch joined by an altered copy of every image.

    A batch of ``n`` becomes ``2n`` images (originals, then their copies in
    order) with labels ``int32 [2n, 2]``: the class (column 0) and the copy
    group (column `COPY_GROUP`, the original's position in the batch, shared
    by it and its copy). Batch ``b`` is altered with seeds ``(seed, b, i)``,
    so a run repeats its alterations.

    Args:
        batches: Batches of ``uint8`` images and integer labels.
        seed: Seed of the alterations.
        min_area: As for `altered_copy`.
        max_brightness: As for `altered_copy`.
        jpeg_quality: As for `altered_copy`.

    Raises:
        ValueError: On a bad alteration, naming it.
    """
    _check_alterations(min_area, max_brightness, jpeg_quality)

    def alter(pair):
        return altered_copy(pair[0], pair[1], min_area, max_brightness, jpeg_quality)

    def join(step, batch):
        images, labels = batch
        count = tf.shape(images)[0]
        positions = tf.range(count)
        seeds = tf.stack(
            [
                tf.fill([count], tf.cast(seed, tf.int64) * 1_000_003 + step),
                tf.cast(positions, tf.int64),
            ],
            axis=1,
        )
        copies = tf.map_fn(
            alter,
            (images, seeds),
            fn_output_signature=tf.TensorSpec(images.shape[1:], tf.uint8),
        )
        classes = tf.cast(tf.reshape(labels, [-1]), tf.int32)
        packed = tf.stack(
            [tf.concat([classes, classes], 0), tf.concat([positions, positions], 0)], 1
        )
        return tf.concat([images, copies], 0), packed

    return batches.enumerate().map(join, num_parallel_calls=tf.data.AUTOTUNE)
