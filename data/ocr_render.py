"""Offline OCR data rendered with PIL: number plates, mixed text lines and captchas.

Strings are drawn from a seeded `numpy.random.Generator` (`random_plates`,
`random_text_lines`, `random_captcha_texts`) and rendered one font per image
(`render_texts`, `render_captchas`) as ``uint8`` grayscale images of a fixed
height and their own width. The same seed gives the same images.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from common.validation import check_non_negative_int, check_positive_int
from data.ocr_text import TextImages, resize_to_height

# Letters on UK and Californian plates: I, O and Q are not issued (they read as 1 and 0).
PLATE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
DIGITS = "0123456789"
PLATE_FORMATS = {"uk": "LL00 LLL", "us": "0LLL000"}
"""Plate layouts: ``L`` a plate letter, ``0`` a digit, anything else itself."""
WORDS = (
    "the quick brown fox jumps over lazy dog invoice total paid due date order "
    "street road avenue north south east west city unit box ref no page of and "
    "Main Park Hill Lane London Paris Berlin March April June July"
).split()
PUNCTUATION = ".,:;-/'!?()#"
CAPTCHA_CHARACTERS = "2345678bcdefgmnpwxy"
"""The characters of the captcha set keras-io's ``captcha_ocr`` reads."""
STYLES = ("line", "plate")
RENDER_SIZE = 48  # font size in px; images are drawn this large, then scaled to `height`
CAPTCHA_SIZE = (160, 60)


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            "Invalid value for argument `rng`. Expected a numpy.random.Generator "
            f"(np.random.default_rng(seed)). Received rng={rng!r}."
        )
    return rng


def random_plates(
    n: int, rng: np.random.Generator, formats: Sequence[str] = tuple(PLATE_FORMATS)
) -> list[str]:
    """``n`` random number-plate strings, each in one of ``formats``.

    Args:
        n: How many.
        rng: The random generator.
        formats: Keys of `PLATE_FORMATS` (``"uk"``: ``AB12 CDE``, ``"us"``: ``7ABC123``).

    Returns:
        The plate strings.

    Raises:
        ValueError: On an unknown format or a bad ``n``.

    Example:
        >>> random_plates(2, np.random.default_rng(0), formats=["us"])  # doctest: +SKIP
        ['8NHS276', '1PVK803']
    """
    check_non_negative_int("n", n)
    _check_rng(rng)
    unknown = [name for name in formats if name not in PLATE_FORMATS]
    if unknown or not formats:
        raise ValueError(
            f"Invalid value for argument `formats`. Expected names among "
            f"{sorted(PLATE_FORMATS)}. Received formats={list(formats)!r}."
        )
    layouts = [PLATE_FORMATS[name] for name in formats]
    pools = {"L": PLATE_LETTERS, "0": DIGITS}
    plates = []
    for layout in (layouts[i] for i in rng.integers(len(layouts), size=n)):
        plates.append(
            "".join(
                pools[slot][rng.integers(len(pools[slot]))] if slot in pools else slot
                for slot in layout
            )
        )
    return plates


def random_text_lines(n: int, rng: np.random.Generator, max_words: int = 4) -> list[str]:
    """``n`` random lines of words, numbers and punctuation, e.g. ``"invoice 42, due"``.

    Args:
        n: How many.
        rng: The random generator.
        max_words: Most tokens per line (a token is a word or a 1-4 digit number).

    Returns:
        The lines, without leading or trailing spaces.
    """
    check_non_negative_int("n", n)
    check_positive_int("max_words", max_words)
    _check_rng(rng)
    lines = []
    for _ in range(n):
        tokens = []
        for _ in range(int(rng.integers(1, max_words + 1))):
            if rng.random() < 0.3:
                token = str(int(rng.integers(0, 10 ** int(rng.integers(1, 5)))))
            else:
                token = WORDS[rng.integers(len(WORDS))]
            if rng.random() < 0.25:
                token += PUNCTUATION[rng.integers(len(PUNCTUATION))]
            tokens.append(token)
        lines.append(" ".join(tokens))
    return lines


def random_captcha_texts(
    n: int, rng: np.random.Generator, length: int = 5, characters: str = CAPTCHA_CHARACTERS
) -> list[str]:
    """``n`` random strings of ``length`` characters drawn from ``characters``."""
    check_non_negative_int("n", n)
    check_positive_int("length", length)
    _check_rng(rng)
    if not characters:
        raise ValueError("Invalid value for argument `characters`. Expected a non-empty string.")
    picks = rng.integers(len(characters), size=(n, length))
    return ["".join(characters[i] for i in row) for row in picks]


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def render_text(
    text: str,
    font: str,
    height: int = 32,
    rng: np.random.Generator | None = None,
    style: str = "line",
) -> np.ndarray:
    """One line of text drawn dark on light, ``uint8 [height, width]``.

    The whole line box (ascent to descent) is kept, so letters sit on the same
    baseline in every image; the width follows the text. With ``rng``, the
    grey levels and margins vary; without, they are fixed.

    Args:
        text: The text.
        font: A TrueType font file (see `data.ocr_fonts.find_fonts`).
        height: Rows of the image.
        rng: Draws the grey levels and margins; ``None`` for fixed ones.
        style: ``"line"`` (plain) or ``"plate"`` (wider margins and a frame).

    Returns:
        The image.
    """
    if style not in STYLES:
        raise ValueError(
            f"Invalid value for argument `style`. Expected one of {STYLES}. "
            f"Received style={style!r}."
        )
    check_positive_int("height", height)
    face = _font(str(font), RENDER_SIZE)
    ascent, descent = face.getmetrics()
    left, top, right, bottom = face.getbbox(text, anchor="ls")
    top, bottom = min(top, -ascent), max(bottom, descent)
    between = rng.uniform if rng is not None else (lambda low, high: (low + high) / 2)
    unit = RENDER_SIZE / 8
    margin_x = between(1.5, 3.0) * unit if style == "plate" else between(0.2, 1.0) * unit
    margin_y = between(0.8, 1.4) * unit if style == "plate" else between(0.1, 0.5) * unit
    size = (int(right - min(left, 0) + 2 * margin_x), int(bottom - top + 2 * margin_y))
    background, foreground = int(between(180, 255)), int(between(0, 70))
    image = Image.new("L", size, background)
    canvas = ImageDraw.Draw(image)
    canvas.text(
        (margin_x - min(left, 0), margin_y - top), text, fill=foreground, font=face, anchor="ls"
    )
    if style == "plate":
        inset = int(unit / 4)
        canvas.rectangle(
            (inset, inset, size[0] - 1 - inset, size[1] - 1 - inset),
            outline=foreground,
            width=max(2, int(unit / 3)),
        )
    return resize_to_height(np.asarray(image, np.uint8), height)


def render_texts(
    texts: Sequence[str],
    fonts: Sequence[str],
    seed: int,
    height: int = 32,
    style: str = "line",
) -> TextImages:
    """Each text rendered in a font drawn from ``fonts`` (see `render_text`).

    Args:
        texts: The texts.
        fonts: TrueType font files to draw from, uniformly.
        seed: Seed of the font choice, grey levels and margins.
        height: Rows of each image.
        style: ``"line"`` or ``"plate"``.

    Returns:
        `TextImages` with the font of each image.
    """
    if not fonts:
        raise ValueError("Invalid value for argument `fonts`. Expected at least one font file.")
    rng = np.random.default_rng(seed)
    chosen = [str(fonts[i]) for i in rng.integers(len(fonts), size=len(texts))]
    images = [render_text(t, f, height, rng, style) for t, f in zip(texts, chosen)]
    return TextImages(tuple(images), tuple(texts), tuple(chosen))


class _SeededSecrets:
    """The three `secrets` functions `captcha` calls, drawn from a seeded generator."""

    def __init__(self, rng: np.random.Generator):
        self._rng = rng

    def randbelow(self, n: int) -> int:
        return int(self._rng.integers(n))

    def randbits(self, k: int) -> int:
        return int(self._rng.integers(0, 2**k, dtype=np.uint64))

    def choice(self, sequence):
        return sequence[int(self._rng.integers(len(sequence)))]


_CAPTCHA_LOCK = threading.Lock()


def _image_captcha_module():
    try:
        import captcha.image
    except ImportError as error:
        raise ImportError(
            "Rendering captchas needs the `captcha` package: `pip install captcha`."
        ) from error
    return captcha.image


def render_captchas(
    texts: Sequence[str], seed: int, height: int = 32, fonts: Sequence[str] = ()
) -> TextImages:
    """Each text as a captcha (`captcha.image.ImageCaptcha`, 160 x 60), in grayscale.

    `captcha` draws its randomness from `secrets`, which cannot be seeded; for
    the duration of the call its module sees a seeded stand-in instead (under
    a lock), so the same seed gives the same captchas.

    Args:
        texts: The texts.
        seed: Seed of the warps, colours, noise and font choice.
        height: Rows of each image (the width keeps the 160 x 60 aspect).
        fonts: TrueType fonts, one drawn per image; `captcha`'s own when empty.

    Returns:
        `TextImages` with the font of each image (``""`` for `captcha`'s own).

    Raises:
        ImportError: If `captcha` is not installed, saying ``pip install captcha``.
    """
    module = _image_captcha_module()
    rng = np.random.default_rng(seed)
    chosen = [str(fonts[i]) for i in rng.integers(len(fonts), size=len(texts))] if fonts else []
    makers: dict[str, object] = {}
    images = []
    with _CAPTCHA_LOCK:
        original, module.secrets = module.secrets, _SeededSecrets(rng)
        try:
            for index, text in enumerate(texts):
                font = chosen[index] if chosen else ""
                if font not in makers:
                    makers[font] = module.ImageCaptcha(
                        *CAPTCHA_SIZE, fonts=[font] if font else None
                    )
                picture = makers[font].generate_image(text).convert("L")
                images.append(resize_to_height(np.asarray(picture, np.uint8), height))
        finally:
            module.secrets = original
    names = tuple(chosen) if chosen else tuple("" for _ in texts)
    return TextImages(tuple(images), tuple(texts), names)
