import numpy as np
import pytest
import tensorflow as tf

from data.augment import augment_image_batches, shift_and_flip


def dots(count: int, size: int = 9) -> np.ndarray:
    """Images with one bright pixel at (row 4, column 2)."""
    images = np.zeros((count, size, size, 1), np.uint8)
    images[:, 4, 2] = 255
    return images


def dot_positions(images) -> list[tuple[int, int]]:
    return [tuple(np.argwhere(np.asarray(image)[..., 0] == 255)[0]) for image in images]


def test_each_image_moves_by_at_most_max_shift_and_may_be_mirrored():
    images = dots(64)
    out = shift_and_flip(tf.constant(images), tf.constant([1, 2]), max_shift=2, flip=True)
    assert out.shape == images.shape and out.dtype == tf.uint8
    positions = dot_positions(out)
    flipped = 0
    for row, column in positions:
        assert abs(row - 4) <= 2
        if abs(column - 2) > 2:  # mirrored: column 9 - 1 - 2 = 6, then shifted
            assert abs(column - 6) <= 2
            flipped += 1
    assert 16 <= flipped <= 48  # about half
    assert len(set(positions)) > 10  # per image, not one draw for the batch
    np.testing.assert_array_equal(np.asarray(out).sum(axis=(1, 2, 3)), 255)  # nothing lost


def test_no_shift_and_no_flip_is_the_identity_and_a_seed_repeats():
    images = tf.constant(dots(8))
    same = shift_and_flip(images, tf.constant([5, 6]), max_shift=0, flip=False)
    np.testing.assert_array_equal(same, images)
    first = shift_and_flip(images, tf.constant([5, 6]))
    np.testing.assert_array_equal(first, shift_and_flip(images, tf.constant([5, 6])))
    assert not np.array_equal(first, images)  # the default shifts and flips
    assert not np.array_equal(first, shift_and_flip(images, tf.constant([7, 8])))
    with pytest.raises(ValueError, match="max_shift=-1"):
        shift_and_flip(images, tf.constant([5, 6]), max_shift=-1)


def test_a_dataset_gets_new_draws_each_epoch_and_the_same_draws_each_run():
    images, labels = dots(32), np.arange(32)
    batches = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)

    def epochs(dataset, count=2):
        return [[(x.numpy(), y.numpy()) for x, y in dataset] for _ in range(count)]

    first_run = epochs(augment_image_batches(batches, seed=7))
    second_run = epochs(augment_image_batches(batches, seed=7))
    for epoch_a, epoch_b in zip(first_run, second_run):
        for (xa, ya), (xb, yb) in zip(epoch_a, epoch_b):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)
    one, two = first_run
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(one, two))
    np.testing.assert_array_equal(np.concatenate([y for _, y in one]), labels)  # labels kept
