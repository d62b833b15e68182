import numpy as np
import pytest

from data.near_duplicates import near_duplicates


def photos(n=6, channels=3, seed=0):
    """Smooth images (a blob per channel on a gradient), as photos are: JPEG keeps them close."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:32, 0:32] / 31.0
    images = np.empty((n, 32, 32, channels), np.uint8)
    for index in range(n):
        for channel in range(channels):
            a, b, angle = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0, 2 * np.pi)
            blob = np.exp(-((x - a) ** 2 + (y - b) ** 2) * 15)
            gradient = 0.5 + 0.25 * (np.cos(angle) * (x - 0.5) + np.sin(angle) * (y - 0.5))
            images[index, :, :, channel] = np.clip(255 * (0.6 * blob + 0.4 * gradient), 0, 255)
    return images


@pytest.mark.parametrize("channels", [1, 3])
def test_copies_are_altered_but_closer_to_their_original_than_to_others(channels):
    originals = photos(channels=channels)
    copies = near_duplicates(originals, seed=1, max_brightness=0)  # brightness: below
    assert copies.shape == originals.shape and copies.dtype == np.uint8
    flat = copies.reshape(6, 1, -1).astype(float)

    def distance_to(references):
        return np.linalg.norm(flat - references.reshape(1, 6, -1).astype(float), axis=-1)

    # a copy may be mirrored: compare with each original as it is and mirrored
    distance = np.minimum(distance_to(originals), distance_to(originals[:, :, ::-1]))
    assert np.all(np.diag(distance) > 0)  # altered
    assert np.all(np.argmin(distance, axis=1) == np.arange(6))  # still nearest their original
    brighter = near_duplicates(originals, seed=1).astype(float) - copies
    shift = brighter.mean(axis=(1, 2, 3))
    assert np.all(np.abs(shift) <= 0.2 * 255 + 1) and np.ptp(shift) > 5  # each its own shift


def test_seeded_and_no_alteration_is_jpeg_only():
    originals = photos()
    np.testing.assert_array_equal(near_duplicates(originals, 3), near_duplicates(originals, 3))
    assert not np.array_equal(near_duplicates(originals, 3), near_duplicates(originals, 4))
    untouched = near_duplicates(originals, min_area=1, max_brightness=0, jpeg_quality=100)
    error = np.minimum(  # per image: as it is or mirrored back
        np.abs(untouched.astype(int) - originals).mean(axis=(1, 2, 3)),
        np.abs(untouched[:, :, ::-1].astype(int) - originals).mean(axis=(1, 2, 3)),
    )
    assert np.all(error <= 3.0)  # JPEG at quality 100 alone


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="`images`.*float64"):
        near_duplicates(np.zeros((1, 4, 4, 3)))
    with pytest.raises(ValueError, match="`images`.*shape \\(4, 4\\)"):
        near_duplicates(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="`min_area`.*Received min_area=0"):
        near_duplicates(photos(1), min_area=0)
    with pytest.raises(ValueError, match="`max_brightness`"):
        near_duplicates(photos(1), max_brightness=1.5)
    with pytest.raises(ValueError, match="`jpeg_quality`.*1-100.*101"):
        near_duplicates(photos(1), jpeg_quality=101)


def test_training_batches_are_joined_by_seeded_copies_with_class_and_group_labels():
    import tensorflow as tf

    from data.near_duplicates import COPY_GROUP, altered_copy, with_altered_copies

    originals = photos(n=6, channels=1)
    labels = np.array([3, 1, 3, 0, 1, 2])
    batches = tf.data.Dataset.from_tensor_slices((originals, labels)).batch(4)
    joined = list(with_altered_copies(batches, seed=5).as_numpy_iterator())
    assert [images.shape[0] for images, _ in joined] == [8, 4]
    images, packed = joined[0]
    np.testing.assert_array_equal(images[:4], originals[:4])
    np.testing.assert_array_equal(packed[:, 0], np.tile(labels[:4], 2))
    np.testing.assert_array_equal(packed[:, COPY_GROUP], [0, 1, 2, 3, 0, 1, 2, 3])
    again = list(with_altered_copies(batches, seed=5).as_numpy_iterator())
    np.testing.assert_array_equal(again[1][0], joined[1][0])  # seeded: repeats
    other = list(with_altered_copies(batches, seed=6).as_numpy_iterator())
    assert not np.array_equal(other[0][0][4:], images[4:])
    one = altered_copy(originals[0], tf.constant([5 * 1_000_003, 0], tf.int64)).numpy()
    np.testing.assert_array_equal(one, images[4])  # batch 0, position 0
    with pytest.raises(ValueError, match="jpeg_quality"):
        with_altered_copies(batches, jpeg_quality=0)
