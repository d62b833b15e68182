import re
import sys

import numpy as np
import pytest

from data import ocr_render
from data.ocr_fonts import find_fonts
from data.ocr_render import (
    CAPTCHA_CHARACTERS,
    PUNCTUATION,
    WORDS,
    random_captcha_texts,
    random_plates,
    random_text_lines,
    render_captchas,
    render_text,
    render_texts,
)

PLATE_PATTERNS = {
    "uk": re.compile(r"^[A-HJ-NPR-Z]{2}[0-9]{2} [A-HJ-NPR-Z]{3}$"),  # AB12 CDE, no I/O/Q
    "us": re.compile(r"^[0-9][A-HJ-NPR-Z]{3}[0-9]{3}$"),  # 7ABC123
}


@pytest.fixture(scope="module")
def mono():
    return next(font for font in find_fonts() if font.endswith("DejaVuSansMono.ttf"))


@pytest.mark.parametrize("name", ["uk", "us"])
def test_plates_match_their_format(name):
    plates = random_plates(200, np.random.default_rng(0), formats=[name])
    assert len(plates) == 200
    assert all(PLATE_PATTERNS[name].match(plate) for plate in plates), plates[:5]
    assert len(set(plates)) > 190  # random, not one plate repeated


def test_mixed_plates_use_both_formats_and_the_seed_repeats_them():
    plates = random_plates(100, np.random.default_rng(3))
    uk = sum(bool(PLATE_PATTERNS["uk"].match(plate)) for plate in plates)
    us = sum(bool(PLATE_PATTERNS["us"].match(plate)) for plate in plates)
    assert uk + us == 100 and 25 < uk < 75
    assert random_plates(100, np.random.default_rng(3)) == plates
    assert random_plates(100, np.random.default_rng(4)) != plates


def test_bad_plate_format_is_named():
    with pytest.raises(ValueError, match=r"formats=\['fr'\]"):
        random_plates(3, np.random.default_rng(0), formats=["fr"])
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        random_plates(3, rng=0)


def test_text_lines_mix_words_digits_and_punctuation():
    lines = random_text_lines(300, np.random.default_rng(1), max_words=4)
    allowed = set("".join(WORDS) + "0123456789" + PUNCTUATION + " ")
    assert set("".join(lines)) <= allowed
    assert all(line == line.strip() and 1 <= len(line.split()) <= 4 for line in lines)
    text = "".join(lines)
    assert any(c.isdigit() for c in text) and any(c in PUNCTUATION for c in text)
    assert random_text_lines(300, np.random.default_rng(1), max_words=4) == lines


def test_captcha_texts_use_the_captcha_characters():
    texts = random_captcha_texts(50, np.random.default_rng(0), length=5)
    assert all(len(text) == 5 and set(text) <= set(CAPTCHA_CHARACTERS) for text in texts)


def test_rendered_text_is_grayscale_of_one_height_and_dark_on_light(mono):
    image = render_text("AB12 CDE", mono, height=32)
    assert image.dtype == np.uint8 and image.ndim == 2 and image.shape[0] == 32
    assert np.median(image) - image.min() > 100  # ink is far darker than the background
    longer = render_text("AB12 CDE FGH", mono, height=32)
    assert longer.shape[1] > image.shape[1] * 1.3  # width follows the text


def test_rendered_strings_are_legible_one_character_apart(mono):
    """The last character alone changes the pixels, and only where it is drawn."""
    first, second = render_text("AB12 CDE", mono), render_text("AB12 CDF", mono)
    assert first.shape == second.shape  # monospace: same width
    difference = np.abs(first.astype(int) - second.astype(int)).mean(axis=0)
    width = first.shape[1]
    assert difference[: width * 3 // 4].max() == 0  # "AB12 C" identical to the pixel
    assert difference[width * 3 // 4 :].max() > 20  # "E" against "F": clearly different
    np.testing.assert_array_equal(render_text("AB12 CDE", mono), first)


def test_render_texts_is_seeded_and_records_each_font(mono):
    fonts = find_fonts()[:4]
    texts = random_plates(12, np.random.default_rng(0))
    first = render_texts(texts, fonts, seed=5, style="plate")
    again = render_texts(texts, fonts, seed=5, style="plate")
    other = render_texts(texts, fonts, seed=6, style="plate")
    assert first.texts == tuple(texts) and set(first.fonts) <= set(fonts)
    assert len(set(first.fonts)) > 1
    assert all(image.shape[0] == 32 and image.dtype == np.uint8 for image in first.images)
    assert all(np.array_equal(a, b) for a, b in zip(first.images, again.images))
    assert first.fonts == again.fonts
    assert not all(
        a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first.images, other.images)
    )
    with pytest.raises(ValueError, match="Received style='box'"):
        render_text("AB", mono, style="box")


def test_captchas_are_seeded_and_leave_secrets_alone():
    import secrets

    import captcha.image

    texts = random_captcha_texts(4, np.random.default_rng(0))
    first = render_captchas(texts, seed=1, height=32)
    again = render_captchas(texts, seed=1, height=32)
    other = render_captchas(texts, seed=2, height=32)
    assert all(image.shape == (32, 85) and image.dtype == np.uint8 for image in first.images)
    assert all(np.array_equal(a, b) for a, b in zip(first.images, again.images))
    assert not any(np.array_equal(a, b) for a, b in zip(first.images, other.images))
    assert captcha.image.secrets is secrets
    fonts = find_fonts()[:2]
    assert set(render_captchas(texts, seed=1, fonts=fonts).fonts) <= set(fonts)


def test_missing_captcha_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "captcha.image", None)
    with pytest.raises(ImportError, match="pip install captcha"):
        ocr_render.render_captchas(["abc"], seed=0)
