import numpy as np
import pytest

from data.ocr import (
    HELD_OUT_FONTS,
    font_family,
    generated_splits,
    split_fonts,
    split_unseen_strings,
)
from data.ocr_fonts import find_fonts
from data.ocr_text import alphabet_of, check_alphabet


def test_unseen_strings_split_is_disjoint_and_complete():
    texts = [f"T{i % 40}" for i in range(100)]  # 40 distinct texts, repeated
    train, test = split_unseen_strings(texts, 0.25, seed=0)
    assert not {texts[i] for i in train} & {texts[i] for i in test}
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(100))
    assert len({texts[i] for i in test}) == 10  # a quarter of the distinct texts
    again_train, again_test = split_unseen_strings(texts, 0.25, seed=0)
    np.testing.assert_array_equal(again_test, test)
    assert not np.array_equal(split_unseen_strings(texts, 0.25, seed=1)[1], test)


def test_unseen_strings_split_needs_both_sides():
    with pytest.raises(ValueError, match="3 distinct texts holds out 0"):
        split_unseen_strings(["a", "b", "c", "a"], 0.1, seed=0)
    with pytest.raises(ValueError, match="Received test_fraction=1.5"):
        split_unseen_strings(["a", "b"], 1.5, seed=0)


@pytest.mark.parametrize(
    "name, family",
    [
        ("/x/DejaVuSerif-BoldItalic.ttf", "DejaVuSerif"),
        ("FreeMonoBoldOblique.ttf", "FreeMono"),
        ("LiberationSans-Regular.ttf", "LiberationSans"),
        ("STIXGeneralBolIta.ttf", "STIXGeneral"),
        ("cmtt10.ttf", "cmtt10"),
    ],
)
def test_font_family(name, family):
    assert font_family(name) == family


def test_held_out_fonts_are_whole_families_never_trained_on():
    fonts = find_fonts()
    training, held_out = split_fonts(fonts, 3, seed=0)
    assert set(training) | set(held_out) == set(fonts) and not set(training) & set(held_out)
    held_families = {font_family(font) for font in held_out}
    assert len(held_families) == 3
    assert not held_families & {font_family(font) for font in training}
    assert split_fonts(fonts, 3, seed=0) == (training, held_out)
    assert split_fonts(fonts, 0, seed=0) == (tuple(sorted(fonts)), ())
    with pytest.raises(ValueError, match="Expected fewer than the 2 font families"):
        split_fonts(["A-Bold.ttf", "A.ttf", "B.ttf"], 2, seed=0)


def test_generated_plates_test_unseen_strings_in_training_and_held_out_fonts():
    splits = generated_splits("plates", n_train=60, n_validation=10, n_test=12, seed=2)
    assert {name: len(part) for name, part in splits.items()} == {
        "train": 60,
        "validation": 10,
        "test": 12,
        HELD_OUT_FONTS: 12,
    }
    train = set(splits["train"].texts)
    assert len(train) == 60
    for name in ("validation", "test", HELD_OUT_FONTS):
        assert not train & set(splits[name].texts), name
    assert not set(splits["validation"].texts) & set(splits["test"].texts)
    # The held-out-fonts test reads the same strings, only in other font families.
    assert splits[HELD_OUT_FONTS].texts == splits["test"].texts
    trained_families = {font_family(f) for f in splits["train"].fonts}
    assert not trained_families & {font_family(f) for f in splits[HELD_OUT_FONTS].fonts}
    for part in splits.values():
        assert all(image.dtype == np.uint8 and image.shape[0] == 32 for image in part.images)
    check_alphabet(splits["test"].texts, alphabet_of(splits["train"].texts) + "IOQ")


def test_generated_splits_repeat_by_seed():
    fonts = find_fonts()[:6]
    first = generated_splits("lines", 20, 0, 6, seed=1, fonts=fonts, n_held_out_fonts=1)
    again = generated_splits("lines", 20, 0, 6, seed=1, fonts=fonts, n_held_out_fonts=1)
    assert set(first) == {"train", "test", HELD_OUT_FONTS}
    for name in first:
        assert first[name].texts == again[name].texts
        assert all(np.array_equal(a, b) for a, b in zip(first[name].images, again[name].images))


def test_generated_captchas_and_clean_images():
    splits = generated_splits(
        "captchas", 8, 0, 4, seed=0, fonts=find_fonts()[:3], n_held_out_fonts=0, augmentation=None
    )
    assert set(splits) == {"train", "test"}
    assert all(len(text) == 5 for text in splits["train"].texts)
    assert splits["test"].images[0].shape == (32, 85)


def test_bad_kind_and_sizes_are_named():
    with pytest.raises(ValueError, match="Received kind='receipts'"):
        generated_splits("receipts")
    with pytest.raises(ValueError, match="Received n_test=0"):
        generated_splits("plates", n_test=0)
