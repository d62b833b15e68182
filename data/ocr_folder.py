"""OCR datasets a user brings: a labels file of ``image<TAB>text`` lines, or named files.

Two layouts:

- `read_labels_file`: a text file whose lines are ``image<TAB>text``, image
  paths relative to the file's folder (the layout of most line-OCR sets);
- `read_named_images`: a folder where each file's name is its text,
  ``2b827.png`` showing ``2b827`` (how captcha sets are distributed).

Images come back ``uint8`` grayscale at one height, their aspect ratio kept.
Files that do not decode are skipped with one warning that counts them
(`data.image_folder.warn_skipped`); a malformed line or a missing image is
an error naming the line.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from common.validation import check_positive_int
from data.image_folder import IMAGE_EXTENSIONS, decode_image_file, warn_skipped
from data.ocr_text import TextImages, resize_to_height


def _grayscale(path: Path, height: int) -> np.ndarray | None:
    image = decode_image_file(path, channels=1)
    if image is None or 0 in image.shape[:2]:
        return None
    return resize_to_height(image.numpy()[:, :, 0], height)


def _labelled_lines(labels_file: Path) -> list[tuple[int, str, str]]:
    """``(line number, image path, text)`` of each non-blank line, or an error naming the line."""
    entries = []
    lines = labels_file.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        image, tab, text = line.partition("\t")
        if not tab or not image.strip() or not text:
            raise ValueError(
                f"{labels_file}, line {number}: expected 'image<TAB>text' with both parts "
                f"non-empty. Received {line!r}."
            )
        entries.append((number, image.strip(), text))
    if not entries:
        raise ValueError(f"Labels file {labels_file} has no 'image<TAB>text' line.")
    return entries


def read_labels_file(labels_file: str | os.PathLike, height: int = 32) -> TextImages:
    """Reads the images a labels file lists, with their texts.

    Each non-blank line is ``image<TAB>text``: an image path (relative to the
    labels file's folder, or absolute) and the text it shows, kept exactly
    (only the first tab separates). Blank lines are ignored.

    Args:
        labels_file: The labels file (UTF-8).
        height: Rows every image is resized to, keeping its aspect ratio.

    Returns:
        `TextImages` in the order of the file, less the skipped files.

    Raises:
        ValueError: If the file is missing, a line is malformed or names an
            image that does not exist (naming the line), or no image decodes.

    Example:
        >>> data = read_labels_file("lines/labels.tsv", height=32)  # doctest: +SKIP
        >>> data.texts[0], data.images[0].shape  # doctest: +SKIP
        ('Invoice 42', (32, 180))
    """
    check_positive_int("height", height)
    labels_file = Path(labels_file)
    if not labels_file.is_file():
        raise ValueError(f"Labels file {labels_file} does not exist or is not a file.")
    root = labels_file.parent
    images, texts, skipped = [], [], []
    for number, name, text in _labelled_lines(labels_file):
        path = root / name
        if not path.is_file():
            raise ValueError(
                f"{labels_file}, line {number}: image {name!r} not found (looked for {path}). "
                "Image paths are relative to the labels file's folder."
            )
        image = _grayscale(path, height)
        if image is None:
            skipped.append(name)
            continue
        images.append(image)
        texts.append(text)
    return _loaded(images, texts, skipped, root)


def read_named_images(directory: str | os.PathLike, height: int = 32) -> TextImages:
    """Reads a folder of images whose file names are their texts (``2b827.png`` -> ``2b827``).

    Args:
        directory: The folder (not searched recursively).
        height: Rows every image is resized to, keeping its aspect ratio.

    Returns:
        `TextImages` sorted by file name; files that are not images (by their
        extension, `data.image_folder.IMAGE_EXTENSIONS`) or do not decode are skipped.

    Raises:
        ValueError: If the folder is missing or holds no readable image.
    """
    check_positive_int("height", height)
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"Image folder {root} does not exist or is not a directory.")
    images, texts, skipped = [], [], []
    for path in sorted(p for p in root.iterdir() if p.is_file()):
        image = _grayscale(path, height) if path.suffix.lower() in IMAGE_EXTENSIONS else None
        if image is None:
            skipped.append(path.name)
            continue
        images.append(image)
        texts.append(path.stem)
    return _loaded(images, texts, skipped, root)


def _loaded(images, texts, skipped, root: Path) -> TextImages:
    if not images:
        raise ValueError(
            f"No readable image in {root} ({len(skipped)} file(s) skipped; extensions "
            f"accepted: {', '.join(IMAGE_EXTENSIONS)})."
        )
    warn_skipped(skipped, root, stacklevel=3)
    return TextImages(tuple(images), tuple(texts))
