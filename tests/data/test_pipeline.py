import numpy as np
import pytest

from data.pipeline import build_input_pipelines
from data.specs import TEST, TRAIN
from data.splits_types import ImageSplit


def make_splits(n_train=100, n_test=30):
    # Each image holds its own index, so examples can be traced through the pipeline.
    train = np.arange(n_train, dtype=np.uint16)
    images = np.broadcast_to(train[:, None, None, None] % 256, (n_train, 4, 4, 1))
    return {
        TRAIN: ImageSplit(images.astype(np.uint8), train.astype(np.int64)),
        TEST: ImageSplit(np.zeros((n_test, 4, 4, 1), np.uint8), np.arange(n_test) % 3),
    }


def labels_of(dataset):
    return np.concatenate([labels.numpy() for _, labels in dataset])


def test_split_sizes_are_disjoint_and_cover_the_training_split():
    pipes = build_input_pipelines(make_splits(), batch_size=16, validation_fraction=0.2, seed=3)
    train, validation = labels_of(pipes.train), labels_of(pipes.validation)
    assert (pipes.train_size, pipes.validation_size, pipes.test_size) == (80, 20, 30)
    assert len(train) == 80 and len(validation) == 20
    assert not set(train) & set(validation)
    assert sorted(set(train) | set(validation)) == list(range(100))


def test_batches_stay_raw_uint8():
    pipes = build_input_pipelines(make_splits(), batch_size=16)
    images, labels = next(iter(pipes.train))
    assert images.dtype.name == "uint8" and images.shape == (16, 4, 4, 1)
    assert labels.shape == (16,)


def test_shuffle_is_seeded_and_reshuffles_each_epoch():
    first = build_input_pipelines(make_splits(), batch_size=10, seed=5)
    second = build_input_pipelines(make_splits(), batch_size=10, seed=5)
    other = build_input_pipelines(make_splits(), batch_size=10, seed=6)
    epoch_1, epoch_2 = labels_of(first.train), labels_of(first.train)
    np.testing.assert_array_equal(epoch_1, labels_of(second.train))
    assert not np.array_equal(epoch_1, epoch_2)  # a new order each epoch
    assert sorted(epoch_1) == sorted(epoch_2)
    assert not np.array_equal(epoch_1, labels_of(other.train))
    # Validation and test keep their order.
    np.testing.assert_array_equal(labels_of(first.test), np.arange(30) % 3)


def test_max_examples_limits_train_and_test():
    pipes = build_input_pipelines(make_splits(), batch_size=8, max_examples=40)
    assert pipes.train_size + pipes.validation_size == 40 and pipes.test_size == 30
    pipes = build_input_pipelines(make_splits(), batch_size=8, max_examples=20)
    assert pipes.test_size == 20


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "Received batch_size=0"),
        ({"batch_size": 8, "validation_fraction": 1.5}, "Received validation_fraction=1.5"),
        ({"batch_size": 8, "max_examples": -1}, "Received max_examples=-1"),
        ({"batch_size": 8, "max_examples": 1}, "both need at least one"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_input_pipelines(make_splits(), **kwargs)


def test_missing_split():
    with pytest.raises(ValueError, match=r"\['test'\] are missing"):
        build_input_pipelines({TRAIN: make_splits()[TRAIN]}, batch_size=4)


def test_array_batches_shuffle_by_seed_and_keep_dicts():
    from data.pipeline import array_batches

    x = {"ids": np.arange(10), "chars": np.arange(20).reshape(10, 2)}
    y = np.arange(10) * 10
    ordered = [b[1].numpy().tolist() for b in array_batches((x, y), 4)]
    assert ordered == [[0, 10, 20, 30], [40, 50, 60, 70], [80, 90]]
    first = [b[1].numpy().tolist() for b in array_batches((x, y), 4, shuffle_seed=3)]
    again = [b[1].numpy().tolist() for b in array_batches((x, y), 4, shuffle_seed=3)]
    assert first == again and first != ordered
    batch = next(iter(array_batches((x, y), 4, shuffle_seed=3)))
    np.testing.assert_array_equal(batch[0]["ids"].numpy() * 10, batch[1].numpy())
    np.testing.assert_array_equal(batch[0]["chars"].numpy()[:, 0], batch[0]["ids"].numpy() * 2)
