import numpy as np
import pytest

from data.ocr_text import (
    TextImages,
    alphabet_of,
    check_alphabet,
    encode_texts,
    pad_images,
    resize_to_height,
)


def test_alphabet_is_the_sorted_set_of_characters():
    assert alphabet_of(["BA 21", "AB12", "b!"]) == " !12ABb"
    assert alphabet_of([]) == ""


def test_labels_within_the_alphabet_pass():
    check_alphabet(["AB12", "21 BA"], alphabet_of(["AB12 "]))


def test_alphabet_error_names_the_offending_characters_and_the_fix():
    with pytest.raises(ValueError) as error:
        check_alphabet(["AB12", "ab12", "AB-1"], "12AB")
    message = str(error.value)
    assert "2 label(s)" in message and "3 character(s)" in message
    assert "'-' 'a' 'b'" in message  # sorted, each named
    assert "first such label: 'ab12'" in message
    assert "Add them to the alphabet" in message and "alphabet_of" in message


def test_resize_keeps_the_aspect_ratio():
    image = np.zeros((64, 200), np.uint8)
    assert resize_to_height(image, 32).shape == (32, 100)
    assert resize_to_height(image, 16).dtype == np.uint8
    assert resize_to_height(np.zeros((100, 1), np.uint8), 10).shape == (10, 1)  # never 0 wide
    with pytest.raises(ValueError, match="Received height=0"):
        resize_to_height(image, 0)


def test_pad_images_fills_with_each_images_background():
    light = np.full((4, 3), 200, np.uint8)
    light[1, 1] = 0  # a dark "ink" pixel: the median is still the background
    dark = np.full((4, 5), 30, np.uint8)
    batch, widths = pad_images([light, dark])
    assert batch.shape == (2, 4, 5) and batch.dtype == np.uint8
    np.testing.assert_array_equal(widths, [3, 5])
    np.testing.assert_array_equal(batch[0, :, :3], light)
    assert (batch[0, :, 3:] == 200).all()
    np.testing.assert_array_equal(batch[1], dark)
    assert pad_images([light], width=7)[0].shape == (1, 4, 7)


def test_pad_images_rejects_mixed_heights_and_a_narrow_width():
    with pytest.raises(ValueError, match=r"one height. Received heights \[4, 5\]"):
        pad_images([np.zeros((4, 3), np.uint8), np.zeros((5, 3), np.uint8)])
    with pytest.raises(ValueError, match=r"widest image \(3 px\). Received width=2"):
        pad_images([np.zeros((4, 3), np.uint8)], width=2)


def test_text_images_need_one_text_per_image_and_subset_in_order():
    images = tuple(np.full((2, 2), i, np.uint8) for i in range(3))
    data = TextImages(images, ("a", "b", "c"), ("f0", "f1", "f2"))
    picked = data.subset([2, 0])
    assert picked.texts == ("c", "a") and picked.fonts == ("f2", "f0")
    assert [int(image[0, 0]) for image in picked.images] == [2, 0]
    with pytest.raises(ValueError, match="3 images, 2 texts"):
        TextImages(images, ("a", "b"))


def test_encode_texts_gives_ctc_ids_padded_with_the_blank():
    encoded = encode_texts(["AB1", "1", "BB"], "1AB")
    assert encoded.dtype == np.int32
    np.testing.assert_array_equal(encoded, [[2, 3, 1], [1, 0, 0], [3, 3, 0]])
    # keras.losses.CTC reads a label's length as its non-zero ids
    np.testing.assert_array_equal((encoded != 0).sum(axis=1), [3, 1, 2])


def test_encode_texts_refuses_what_ctc_cannot_learn():
    with pytest.raises(ValueError, match=r"outside the alphabet: 'z'"):
        encode_texts(["az"], "ab")
    with pytest.raises(ValueError, match="1 empty"):
        encode_texts(["ab", ""], "ab")
    with pytest.raises(ValueError, match="alphabet='aba'"):
        encode_texts(["ab"], "aba")
