"""Light image augmentation on batches: random horizontal flips and small shifts.

Applied to the (cached, shuffled, batched) training pipeline only, one
vectorized map per batch, so the cache holds the raw images and every epoch
draws new flips and shifts. Each draw is seeded from a `tf.data` random
stream that is re-drawn every epoch, so a run with the same seed sees the
same augmented batches.
"""

from __future__ import annotations

import tensorflow as tf

from common.validation import check_non_negative_int


def shift_and_flip(images, seed, max_shift: int = 2, flip: bool = True):
    """Each image of a batch flipped left-right (p = 0.5) and shifted by up to ``max_shift`` px.

    A shift moves the image by ``dy, dx`` drawn uniformly from
    ``[-max_shift, max_shift]`` per image; pixels moved in are zeros (the
    background of Fashion-MNIST and digits).

    Args:
        images: A batch ``[batch, height, width, channels]`` (any dtype).
        seed: A stateless seed, an int32 tensor of shape ``[2]``.
        max_shift: Largest shift in pixels, each axis (0: none).
        flip: Whether to flip half of the images left-right.

    Returns:
        The augmented batch, same shape and dtype.

    Raises:
        ValueError: If ``max_shift`` is not an integer >= 0.

    Example:
        >>> batch = tf.zeros((4, 28, 28, 1), tf.uint8)
        >>> shift_and_flip(batch, tf.constant([1, 2])).shape
        TensorShape([4, 28, 28, 1])
    """
    check_non_negative_int("max_shift", max_shift)
    seed = tf.convert_to_tensor(seed, tf.int32)
    if flip:
        images = tf.image.stateless_random_flip_left_right(images, seed)
    if not max_shift:
        return images
    shape = tf.shape(images)
    padded = tf.pad(images, [[0, 0], [max_shift, max_shift], [max_shift, max_shift], [0, 0]])
    # Offsets of the crop in the padded image: max_shift is no shift.
    offsets = tf.random.stateless_uniform(
        [shape[0], 2], seed=seed + 1, minval=0, maxval=2 * max_shift + 1, dtype=tf.int32
    )
    rows = offsets[:, :1] + tf.range(shape[1])[None]
    columns = offsets[:, 1:] + tf.range(shape[2])[None]
    shifted = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(shifted, columns, axis=2, batch_dims=1)


def augment_image_batches(
    dataset: tf.data.Dataset, seed: int, max_shift: int = 2, flip: bool = True
) -> tf.data.Dataset:
    """A batched ``(images, labels)`` dataset with `shift_and_flip` applied to every batch.

    Args:
        dataset: Batches of ``(images, labels)``, already cached and shuffled.
        seed: Seed of the augmentation stream (new draws every epoch, the same
            sequence of draws every run).
        max_shift: Largest shift in pixels.
        flip: Whether to flip half of the images left-right.

    Returns:
        The augmented, prefetched dataset; labels unchanged.

    Raises:
        ValueError: If ``max_shift`` is not an integer >= 0.
    """
    check_non_negative_int("max_shift", max_shift)
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

    def augment(batch, pair):
        images, labels = batch
        pair = tf.cast(pair % (2**31 - 1), tf.int32)
        return shift_and_flip(images, pair, max_shift, flip), labels

    return (
        tf.data.Dataset.zip(dataset, seeds)
        .map(augment, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )
