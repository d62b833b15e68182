import numpy as np
import pytest

from data.splits import chronological_split_indices, held_out_indices, shuffled_split_indices


def test_shuffled_split_is_a_seeded_partition():
    train, validation, test = shuffled_split_indices(100, 0.1, 0.2, seed=3)
    assert (len(train), len(validation), len(test)) == (70, 10, 20)
    assert sorted(np.concatenate([train, validation, test]).tolist()) == list(range(100))
    again = shuffled_split_indices(100, 0.1, 0.2, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip((train, validation, test), again))
    other = shuffled_split_indices(100, 0.1, 0.2, seed=4)
    assert not np.array_equal(test, other[2])


def test_chronological_split_keeps_the_tail_for_test():
    train, validation, test = chronological_split_indices(20, 0.25, 0.25)
    assert train.tolist() == list(range(10))
    assert validation.tolist() == list(range(10, 15))
    assert test.tolist() == list(range(15, 20))


def test_an_empty_part_is_an_error_with_the_sizes():
    with pytest.raises(ValueError, match="3 examples split into 2 train, 0 validation and 1 test"):
        shuffled_split_indices(3, 0.1, 0.3, seed=0)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, True])
def test_fractions_are_checked(fraction):
    with pytest.raises(ValueError, match="validation_fraction"):
        chronological_split_indices(10, fraction, 0.2)


def test_held_out_indices_keep_at_least_one_aside():
    kept, held = held_out_indices(10, 0.2, seed=1)
    assert len(held) == 2 and sorted([*kept, *held]) == list(range(10))
    assert len(held_out_indices(3, 0.01, seed=1)[1]) == 1
