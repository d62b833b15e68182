import numpy as np
import pytest

from baselines.captioning import most_frequent_caption, nearest_image_captions, nearest_neighbours


def grey(*values):
    """1x1 single-channel uint8 images of the given values."""
    return np.array(values, dtype=np.uint8).reshape(-1, 1, 1, 1)


def test_nearest_neighbours_by_hand_with_ties_to_the_lower_index():
    train = grey(0, 100, 200)
    # 90 -> 100; 160 -> 200 (40 < 60); 10 -> 0; 50 is as far from 0 as from 100 -> index 0;
    # 255 - 200 would overflow in uint8: distances are taken in floats.
    assert nearest_neighbours(train, grey(90, 160, 10, 50, 255)).tolist() == [1, 2, 0, 0, 2]


def test_nearest_neighbours_match_brute_force_across_batches():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (40, 4, 4, 3), dtype=np.uint8)
    test = rng.integers(0, 256, (23, 4, 4, 3), dtype=np.uint8)
    flat_train = train.reshape(40, -1).astype(np.float64)
    flat_test = test.reshape(23, -1).astype(np.float64)
    distances = ((flat_test[:, None, :] - flat_train[None, :, :]) ** 2).sum(axis=2)
    expected = distances.argmin(axis=1)
    np.testing.assert_array_equal(nearest_neighbours(train, test, batch_size=5), expected)
    np.testing.assert_array_equal(nearest_neighbours(train, test), expected)
    # Each test image found among the training images is its own nearest neighbour.
    assert nearest_neighbours(train, train[[7, 3, 39]]).tolist() == [7, 3, 39]


def test_nearest_neighbours_reject_bad_arguments():
    with pytest.raises(ValueError, match="batch_size=0"):
        nearest_neighbours(grey(1), grey(1), batch_size=0)
    with pytest.raises(ValueError, match="train_images"):
        nearest_neighbours(np.zeros((0, 1, 1, 1)), grey(1))
    with pytest.raises(ValueError, match=r"\(2, 2, 1\) test"):
        nearest_neighbours(grey(1, 2), np.zeros((1, 2, 2, 1)))


def test_nearest_image_caption_is_the_first_caption_of_the_nearest_training_image():
    captions = (("a red circle", "red circle"), ("a blue square",), ("a green star",))
    predicted = nearest_image_captions(grey(0, 100, 200), captions, grey(190, 5, 120))
    assert predicted == ["a green star", "a red circle", "a blue square"]
    with pytest.raises(ValueError, match="2 caption lists for 3 images"):
        nearest_image_captions(grey(0, 100, 200), captions[:2], grey(1))


def test_most_frequent_caption_counts_every_caption_and_breaks_ties_by_first_seen():
    captions = (("a", "b"), ("b",), ("c", "a"), ("b",))
    assert most_frequent_caption(captions) == "b"  # b: 3, a: 2, c: 1
    assert most_frequent_caption((("x", "y"), ("y", "x"))) == "x"
    with pytest.raises(ValueError, match="Received none"):
        most_frequent_caption(((), ()))
