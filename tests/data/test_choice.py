import numpy as np
import pytest

from data.choice import tfds_three_splits
from data.splits_types import TextSplit


def test_tfds_three_splits_uses_the_datasets_own_held_out_splits():
    def read(split):
        size = {"train": 50, "test": 7, "validation": 5, "dev": 4, "val": 3}[split]
        return TextSplit(np.array([split] * size, dtype=object), np.zeros(size, np.int64))

    def sizes(names, fraction=0.2):
        parts = tfds_three_splits("x", dict.fromkeys(names), read, fraction)
        return [len(part) for part in parts]

    assert sizes(["train", "test", "validation"]) == [50, 5, 7]
    assert sizes(["train", "test", "dev"]) == [50, 4, 7]
    assert sizes(["train", "val"]) == [40, 10, 3]  # val is the test; validation drawn (20 %)
    assert sizes(["train", "test"]) == [40, 10, 7]
    with pytest.raises(ValueError, match="needs a 'train' and a 'test'.*\\['train'\\]"):
        tfds_three_splits("x", {"train": None}, read, 0.2)
