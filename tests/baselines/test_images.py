import numpy as np
import pytest

from baselines.images import (
    fit_logistic_regression,
    logistic_regression_baseline,
    pixel_features,
)
from data import build_input_pipelines, load_dataset
from data.specs import TEST, TRAIN
from data.splits_types import ImageSplit


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")[1]


def test_pixels_are_flattened_and_scaled_to_the_unit_interval():
    images = np.array([[[[0], [255]], [[51], [102]]]], dtype=np.uint8)  # 1 x 2 x 2 x 1
    features = pixel_features(images)
    assert features.dtype == np.float32
    np.testing.assert_allclose(features, [[0.0, 1.0, 0.2, 0.4]])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        pixel_features(np.zeros(3))


def test_logistic_regression_on_digits_reaches_its_floor_on_the_classify_split(digits):
    score = logistic_regression_baseline(digits, validation_fraction=0.1, seed=42)
    assert score.test_accuracy >= 0.94  # 8x8 digits: linear on pixels does well
    # The very examples the classify task trains and tests on.
    pipes = build_input_pipelines(digits, batch_size=32, validation_fraction=0.1, seed=42)
    assert (score.train_examples, score.test_examples) == (pipes.train_size, pipes.test_size)
    assert score.seconds > 0
    # Deterministic: a second fit scores the same.
    assert logistic_regression_baseline(digits, seed=42).test_accuracy == score.test_accuracy
    # max_examples as the classify task reads it.
    few = logistic_regression_baseline(digits, seed=42, max_examples=300)
    pipes = build_input_pipelines(digits, batch_size=32, seed=42, max_examples=300)
    assert (few.train_examples, few.test_examples) == (pipes.train_size, pipes.test_size)


def test_the_fit_separates_what_is_linearly_separable():
    # Class = which half of a 4x4 image is bright: a linear model gets all of them.
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    images = rng.integers(0, 40, (200, 4, 4, 1)).astype(np.uint8)
    for image, label in zip(images, labels):
        image[:, 2 * label : 2 * label + 2] += 200
    model = fit_logistic_regression(ImageSplit(images, labels))
    assert np.mean(model.predict(pixel_features(images)) == labels) == 1.0


def test_bad_arguments_are_named(digits):
    with pytest.raises(ValueError, match="`c`"):
        fit_logistic_regression(digits[TRAIN], c=0)
    with pytest.raises(ValueError, match="`splits`.*Received splits with \\['train'\\]"):
        logistic_regression_baseline({TRAIN: digits[TRAIN]})
    with pytest.raises(ValueError, match="validation_fraction"):
        logistic_regression_baseline({TRAIN: digits[TRAIN], TEST: digits[TEST]}, 1.5)
