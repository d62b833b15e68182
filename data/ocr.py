"""OCR data for the ``ocr`` task: generated splits that test reading, not remembering.

A model that has seen a plate in training can recall it rather than read
it, and one trained on a few fonts may read only those. So every test here
is on strings never seen in training (`split_unseen_strings`), once in the
training fonts and once in font families never seen in training
(`split_fonts`). `generated_splits` renders plates, text lines or captchas
(`data.ocr_render`) that way, degraded by `data.ocr_augment`; a folder a user
brings is read by `data.ocr_folder`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.validation import check_fraction, check_non_negative_int, check_positive_int
from data import ocr_render
from data.ocr_augment import TextAugmentation, augment_text_images
from data.ocr_fonts import find_fonts
from data.ocr_text import TextImages
from data.specs import HELD_OUT_FONTS, TEST, TRAIN, VALIDATION

KINDS = ("plates", "lines", "captchas")
CHARACTERS = {
    "plates": ocr_render.PLATE_LETTERS + ocr_render.DIGITS + " ",
    "lines": "".join(ocr_render.WORDS) + ocr_render.DIGITS + ocr_render.PUNCTUATION + " ",
    "captchas": ocr_render.CAPTCHA_CHARACTERS,
}
"""Characters each kind of generated text may use: the fonts must draw them all."""
DEFAULT_AUGMENTATION = TextAugmentation()
DRAW_ATTEMPTS = 20  # rounds of drawing strings before a kind is found too small for the request
_STYLE_SUFFIX = re.compile(r"(Bold|Bol|Italic|Ita|Oblique|Regular|Book|Light)+$", re.IGNORECASE)


def split_unseen_strings(
    texts: Sequence[str], test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices such that no test text occurs in training.

    The distinct texts are shuffled (seeded) and ``test_fraction`` of them go
    to test with every image that shows them; so with repeated texts the image
    counts follow the text counts only roughly.

    Args:
        texts: The label of each image.
        test_fraction: Share of the distinct texts held out, in ``(0, 1)``.
        seed: Seed of the shuffle.

    Returns:
        ``(train, test)`` sorted index arrays.

    Raises:
        ValueError: If a side would have no text.

    Example:
        >>> texts = ["AB", "CD", "AB", "EF"]
        >>> train, test = split_unseen_strings(texts, 0.34, seed=0)
        >>> {texts[i] for i in train} & {texts[i] for i in test}
        set()
    """
    check_fraction("test_fraction", test_fraction)
    distinct = sorted(set(texts))
    n_test = int(round(len(distinct) * test_fraction))
    if not 0 < n_test < len(distinct):
        raise ValueError(
            f"test_fraction={test_fraction} of {len(distinct)} distinct texts holds out "
            f"{n_test}; train and test each need at least one. Use more texts or another "
            "test_fraction."
        )
    order = np.random.default_rng(seed).permutation(len(distinct))
    held = {distinct[i] for i in order[:n_test]}
    in_test = np.fromiter((text in held for text in texts), bool, count=len(texts))
    return np.flatnonzero(~in_test), np.flatnonzero(in_test)


def font_family(font: str) -> str:
    """A font file's family: its name less style words (``FreeMonoBold`` -> ``FreeMono``)."""
    return _STYLE_SUFFIX.sub("", Path(font).stem.split("-")[0]) or Path(font).stem


def split_fonts(
    fonts: Sequence[str], n_held_out: int, seed: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Training fonts and held-out fonts, whole families held out.

    Holding out ``DejaVuSerif.ttf`` while training on ``DejaVuSerif-Bold.ttf``
    would test little, so ``n_held_out`` families (`font_family`) are drawn,
    seeded, and all their files held out.

    Args:
        fonts: Font files.
        n_held_out: Families held out; 0 holds none out.
        seed: Seed of the draw.

    Returns:
        ``(training, held_out)`` font files, each sorted.

    Raises:
        ValueError: If no family would be left for training.
    """
    check_non_negative_int("n_held_out", n_held_out)
    families = sorted({font_family(font) for font in fonts})
    if n_held_out >= len(families):
        raise ValueError(
            "Invalid value for argument `n_held_out`. Expected fewer than the "
            f"{len(families)} font families available ({', '.join(families)}). "
            f"Received n_held_out={n_held_out}."
        )
    order = np.random.default_rng(seed).permutation(len(families))
    held = {families[i] for i in order[:n_held_out]}
    unique = sorted(set(map(str, fonts)))
    return (
        tuple(font for font in unique if font_family(font) not in held),
        tuple(font for font in unique if font_family(font) in held),
    )


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(
            f"Invalid value for argument `kind`. Expected one of {KINDS}. Received kind={kind!r}."
        )
    return kind


def random_texts(kind: str, n: int, rng: np.random.Generator) -> list[str]:
    """``n`` random strings of a generated ``kind`` (one of `KINDS`), repeats possible."""
    _check_kind(kind)
    if kind == "plates":
        return ocr_render.random_plates(n, rng)
    if kind == "captchas":
        return ocr_render.random_captcha_texts(n, rng)
    return ocr_render.random_text_lines(n, rng)


def _distinct_texts(kind: str, n: int, rng: np.random.Generator) -> list[str]:
    texts: dict[str, None] = {}
    for _ in range(DRAW_ATTEMPTS):
        texts.update(dict.fromkeys(random_texts(kind, n - len(texts), rng)))
        if len(texts) == n:
            return list(texts)
    raise ValueError(
        f"Could not draw {n} distinct {kind} texts ({len(texts)} after {DRAW_ATTEMPTS} "
        "rounds): ask for fewer images."
    )


def _render(kind: str, texts: Sequence[str], fonts: Sequence[str], seed: int, height: int):
    if kind == "captchas":
        return ocr_render.render_captchas(texts, seed, height, fonts)
    return ocr_render.render_texts(
        texts, fonts, seed, height, style="plate" if kind == "plates" else "line"
    )


def generated_splits(
    kind: str = "plates",
    n_train: int = 1000,
    n_validation: int = 200,
    n_test: int = 200,
    seed: int = 0,
    fonts: Sequence[str] | None = None,
    n_held_out_fonts: int = 3,
    height: int = 32,
    augmentation: TextAugmentation | None = DEFAULT_AUGMENTATION,
) -> dict[str, TextImages]:
    """Rendered train, validation and test sets of one ``kind`` of text.

    Every text is distinct, and validation and test texts never occur in
    training (`split_unseen_strings`). Train, validation and test are drawn
    in the training fonts; the `HELD_OUT_FONTS` split renders the test texts
    again in held-out font families (`split_fonts`), so the two tests differ
    only in the font.

    Args:
        kind: ``"plates"``, ``"lines"`` or ``"captchas"``.
        n_train: Training images.
        n_validation: Validation images.
        n_test: Test images (and as many in held-out fonts).
        seed: Seed of texts, fonts, rendering and degradation.
        fonts: Font files; every installed one that draws the kind's characters when ``None``.
        n_held_out_fonts: Font families held out (0: no `HELD_OUT_FONTS` split).
        height: Rows of every image.
        augmentation: Degradation of every image; ``None`` keeps them clean.

    Returns:
        Split name (``"train"``, ``"validation"``, ``"test"``, `HELD_OUT_FONTS`) -> `TextImages`.

    Raises:
        ValueError: On a bad argument, naming it.
        FileNotFoundError: If no font is installed, naming what to install.

    Example:
        >>> splits = generated_splits("plates", 100, 20, 20, seed=1)  # doctest: +SKIP
        >>> splits["test"].texts[0], splits["test"].images[0].shape  # doctest: +SKIP
        ('AB12 CDE', (32, 131))
    """
    _check_kind(kind)
    sizes = {
        TRAIN: check_positive_int("n_train", n_train),
        VALIDATION: check_non_negative_int("n_validation", n_validation),
        TEST: check_positive_int("n_test", n_test),
    }
    check_positive_int("height", height)
    fonts = find_fonts(CHARACTERS[kind]) if fonts is None else tuple(fonts)
    training_fonts, held_out = split_fonts(fonts, n_held_out_fonts, seed)
    rng = np.random.default_rng(seed)
    texts = _distinct_texts(kind, sum(sizes.values()), rng)
    total = len(texts)
    train, rest = split_unseen_strings(texts, (total - n_train) / total, seed)
    parts = {TRAIN: train, TEST: rest}
    if n_validation:
        rest_texts = [texts[i] for i in rest]
        validation, test = split_unseen_strings(rest_texts, n_test / len(rest), seed + 1)
        parts = {TRAIN: train, VALIDATION: rest[validation], TEST: rest[test]}
    draws = {name: [texts[i] for i in indices] for name, indices in parts.items()}
    if held_out:
        draws[HELD_OUT_FONTS] = draws[TEST]
    splits = {}
    for offset, (name, part) in enumerate(draws.items()):
        split_seed = seed * 1009 + offset  # each split its own fonts, warps and noise
        rendered = _render(
            kind, part, held_out if name == HELD_OUT_FONTS else training_fonts, split_seed, height
        )
        if augmentation is not None:
            rendered = augment_text_images(rendered, split_seed, augmentation)
        splits[name] = rendered
    return splits
