"""Captioned images: a folder with a captions CSV, and generated scenes of coloured shapes.

The generated scenes need real one-to-many generation offline: two shapes
on a dark canvas and the sentences that describe them ("a red circle above
a blue square", and equally "a blue square below a red circle": both are
references). Every colour, shape and relation appears in training, but the
test scenes show combinations of objects and arrangement never seen in
training.
"""

from __future__ import annotations

import csv
import itertools
import logging
import os
from pathlib import Path

import numpy as np

from common.validation import check_positive_int
from data.splits_types import CaptionSplit

logger = logging.getLogger(__name__)

COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 200, 60),
    "blue": (50, 90, 230),
    "yellow": (230, 210, 40),
}
SHAPES = ("circle", "square", "triangle")
AXES = ("vertical", "horizontal")


def _draw(canvas: np.ndarray, shape: str, colour, centre, radius: int) -> None:
    size = canvas.shape[0]
    y, x = np.mgrid[0:size, 0:size]
    dy, dx = y - centre[0], x - centre[1]
    if shape == "circle":
        mask = dx**2 + dy**2 <= radius**2
    elif shape == "square":
        mask = (np.abs(dx) <= radius * 0.85) & (np.abs(dy) <= radius * 0.85)
    else:  # triangle, apex up
        mask = (dy >= -radius) & (dy <= radius) & (np.abs(dx) <= (dy + radius) / 2)
    canvas[mask] = colour


def _centres(axis: str, size: int, radius: int, rng) -> tuple[tuple[int, int], tuple[int, int]]:
    """Centres of the first object (top or left) and the second (bottom or right).

    Along the named axis the centres are at least two radii apart (the
    shapes never overlap); along the other they stay within a third of a
    radius of a shared line. So the displacement is clearly vertical or
    horizontal: a diagonal pair would fit "above" and "left of" alike, and
    no caption could be right.
    """
    low, high = radius + 1, size - radius - 1
    half = size // 2
    shared = rng.integers(low, high)
    jitter = max(1, radius // 3)
    along = np.clip(shared + rng.integers(-jitter, jitter + 1, size=2), low, high - 1)
    first = rng.integers(low, max(low + 1, half - radius + 1))
    second = rng.integers(min(high - 1, half + radius), high)
    if axis == "vertical":
        return (first, along[0]), (second, along[1])
    return (along[0], first), (along[1], second)


def scene_combinations() -> list[tuple[str, str, str, str, str]]:
    """Every scene: (colour, shape) on top or left, axis, (colour, shape) below or right.

    Two different objects, ``axis`` ``"vertical"`` or ``"horizontal"``.
    """
    objects = list(itertools.product(COLOURS, SHAPES))
    return [
        (c1, s1, axis, c2, s2)
        for (c1, s1), axis, (c2, s2) in itertools.product(objects, AXES, objects)
        if (c1, s1) != (c2, s2)
    ]


def captions_of(scene) -> tuple[str, str]:
    """Both true captions of a scene: from the first object, and from the second.

    Example:
        >>> captions_of(("red", "circle", "vertical", "blue", "square"))
        ('a red circle above a blue square', 'a blue square below a red circle')
    """
    c1, s1, axis, c2, s2 = scene
    forward, backward = ("above", "below") if axis == "vertical" else ("left of", "right of")
    return f"a {c1} {s1} {forward} a {c2} {s2}", f"a {c2} {s2} {backward} a {c1} {s1}"


def render_scene(scene, size: int = 32, rng=None) -> np.ndarray:
    """One ``uint8 [size, size, 3]`` image of a scene, positions and sizes drawn at random."""
    rng = rng or np.random.default_rng()
    c1, s1, axis, c2, s2 = scene
    radius = max(2, int(size * rng.uniform(0.12, 0.16)))
    canvas = np.full((size, size, 3), 15, np.uint8)
    first, second = _centres(axis, size, radius, rng)
    _draw(canvas, s1, COLOURS[c1], first, radius)
    _draw(canvas, s2, COLOURS[c2], second, radius)
    noise = rng.integers(0, 12, size=canvas.shape, dtype=np.uint8)
    return np.clip(canvas.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def shape_scenes(
    images_per_combination: int = 16,
    test_share: float = 0.2,
    size: int = 32,
    seed: int = 0,
) -> dict[str, CaptionSplit]:
    """Generated scenes, split so test combinations never occur in training.

    Args:
        images_per_combination: Images drawn per training combination (test
            combinations get a third as many).
        test_share: Share of the combinations held out for test.
        size: Image side in pixels.
        seed: Seed of the split and of the drawing.

    Returns:
        ``{"train": ..., "test": ...}`` `CaptionSplit`s, two captions per image.
    """
    check_positive_int("images_per_combination", images_per_combination)
    rng = np.random.default_rng(seed)
    combinations = scene_combinations()
    order = rng.permutation(len(combinations))
    n_test = int(round(len(combinations) * test_share))
    parts = {"test": order[:n_test], "train": order[n_test:]}
    splits = {}
    for name, indices in parts.items():
        per = images_per_combination if name == "train" else max(1, images_per_combination // 3)
        chosen = [combinations[i] for i in indices for _ in range(per)]
        images = np.stack([render_scene(c, size, rng) for c in chosen])
        splits[name] = CaptionSplit(images, tuple(captions_of(c) for c in chosen))
    return splits


def read_caption_folder(
    folder: str | os.PathLike, image_size: int = 64, csv_name: str = "captions.csv"
) -> CaptionSplit:
    """Images of a folder with a CSV of ``image,caption`` rows (several rows per image allowed).

    Rows naming a missing image, and images that fail to decode, are skipped
    with one warning each that counts them. Images are resized to
    ``image_size`` square, RGB.

    Raises:
        FileNotFoundError: If the folder or its CSV does not exist.
        ValueError: If the CSV lacks the columns or no image is usable.
    """
    import tensorflow as tf

    folder = Path(folder)
    table = folder / csv_name
    if not table.is_file():
        raise FileNotFoundError(
            f"Caption folder {str(folder)!r} has no {csv_name} (columns: image, caption)."
        )
    captions: dict[str, list[str]] = {}
    with open(table, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not {"image", "caption"} <= set(reader.fieldnames or []):
            raise ValueError(
                f"{table} needs the columns 'image' and 'caption'; its header is "
                f"{reader.fieldnames}."
            )
        for row in reader:
            image, caption = (row["image"] or "").strip(), (row["caption"] or "").strip()
            if image and caption:
                captions.setdefault(image, []).append(caption)
    images, kept, missing, broken = [], [], 0, 0
    for name, texts in captions.items():
        path = folder / name
        if not path.is_file():
            missing += 1
            continue
        try:
            decoded = tf.io.decode_image(path.read_bytes(), channels=3, expand_animations=False)
        except tf.errors.InvalidArgumentError:
            broken += 1
            continue
        resized = tf.image.resize(decoded, (image_size, image_size))
        images.append(tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8).numpy())
        kept.append(tuple(texts))
    if missing:
        logger.warning("%s: skipped %d images named in %s but missing", folder, missing, csv_name)
    if broken:
        logger.warning("%s: skipped %d images that failed to decode", folder, broken)
    if not images:
        raise ValueError(f"{folder} has no readable image named in {csv_name}.")
    return CaptionSplit(np.stack(images), tuple(kept))
