import numpy as np
import pytest

from data.ocr_augment import TextAugmentation, augment_text_image, augment_text_images
from data.ocr_fonts import find_fonts
from data.ocr_render import render_texts

OFF = dict.fromkeys(["max_rotation", "max_perspective", "max_blur", "max_noise"], 0)
OFF |= {"min_contrast": 1, "min_jpeg_quality": None}  # every degradation turned off


@pytest.fixture(scope="module")
def plates():
    return render_texts(
        ["AB12 CDE", "7ABC123", "XY99 ZZZ"], find_fonts()[:2], seed=0, style="plate"
    )


def test_augmented_images_keep_shape_dtype_and_texts_and_repeat_by_seed(plates):
    first = augment_text_images(plates, seed=3)
    again = augment_text_images(plates, seed=3)
    other = augment_text_images(plates, seed=4)
    assert first.texts == plates.texts and first.fonts == plates.fonts
    for clean, noisy, same, different in zip(
        plates.images, first.images, again.images, other.images
    ):
        assert noisy.shape == clean.shape and noisy.dtype == np.uint8
        np.testing.assert_array_equal(noisy, same)
        assert not np.array_equal(noisy, clean) and not np.array_equal(noisy, different)


def test_everything_off_is_the_identity(plates):
    image = plates.images[0]
    same = augment_text_image(image, np.random.default_rng(0), TextAugmentation(**OFF))
    np.testing.assert_array_equal(same, image)


@pytest.mark.parametrize(
    "name, value",
    [
        ("max_rotation", 5.0),
        ("max_perspective", 0.2),
        ("max_blur", 1.5),
        ("max_noise", 20.0),
        ("min_contrast", 0.3),
        ("min_jpeg_quality", 10),
    ],
)
def test_each_degradation_alone_changes_the_image(plates, name, value):
    image = plates.images[1]
    limits = TextAugmentation(**{**OFF, name: value})
    changed = augment_text_image(image, np.random.default_rng(1), limits)
    assert np.abs(changed.astype(int) - image).mean() > 0.5


def test_noise_and_contrast_do_what_they_say(plates):
    image = plates.images[0]
    noisy = augment_text_image(
        image, np.random.default_rng(2), TextAugmentation(**{**OFF, "max_noise": 30.0})
    )
    residual = noisy.astype(float) - image
    assert 1 < residual.std() < 30 and abs(residual.mean()) < 3
    flat = augment_text_image(
        image, np.random.default_rng(2), TextAugmentation(**{**OFF, "min_contrast": 0.2})
    )
    assert np.ptp(flat) < np.ptp(image)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"max_rotation": -1}, "Received max_rotation=-1"),
        ({"max_perspective": 1.5}, "Received max_perspective=1.5"),
        ({"min_contrast": 0}, r"Expected a value in \(0, 1\]. Received min_contrast=0"),
        ({"min_jpeg_quality": 101}, "Received min_jpeg_quality=101"),
    ],
)
def test_bad_limits_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        TextAugmentation(**arguments)


def test_colour_images_are_refused():
    with pytest.raises(ValueError, match=r"grayscale array \[height, width\]"):
        augment_text_image(np.zeros((8, 8, 3), np.uint8), np.random.default_rng(0))
