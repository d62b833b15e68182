"""Image folders as datasets: ``root/<class>/<image>`` or ``root/<split>/<class>/<image>``.

Images are decoded, resized to one size and held in memory as ``uint8``
arrays (the small-dataset case transfer learning is for); the result feeds
`data.pipeline.build_input_pipelines` like any catalog dataset. Files that are
not images, or that fail to decode, are skipped with one warning that counts
them.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from data.specs import TEST, TRAIN, VALIDATION
from data.splits_types import ImageSplit

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
SPLIT_NAMES = (TRAIN, VALIDATION, TEST)
NAMED_SKIPPED = 5  # a skip warning names this many files, then counts the rest


@dataclasses.dataclass(frozen=True)
class ImageFolder:
    """An image folder loaded into memory.

    Attributes:
        class_names: Subfolder names, sorted; label ``i`` is ``class_names[i]``.
        splits: Split name -> `ImageSplit` of ``uint8 [n, height, width, channels]``.
        skipped: Files skipped because they are not images or fail to decode.
    """

    class_names: tuple[str, ...]
    splits: dict[str, ImageSplit]
    skipped: tuple[str, ...]


def _class_folders(root: Path) -> list[Path]:
    folders = sorted(path for path in root.iterdir() if path.is_dir())
    if not folders:
        raise ValueError(
            f"Image folder {root} has no class subfolders. Expected root/<class>/<image> "
            "or root/<split>/<class>/<image>."
        )
    return folders


def decode_image_file(path: str | os.PathLike, channels: int = 0) -> tf.Tensor | None:
    """The image a file holds, or ``None`` when it cannot be read or decoded.

    The one check of whether a file is a readable image: the loaders here
    and batch prediction (`pipelines.predict`) skip what it rejects.

    Args:
        path: The image file (JPEG, PNG, GIF — first frame — or BMP).
        channels: Channels to decode to: 0 keeps the file's, 1 or 3 convert.

    Returns:
        A ``uint8 [height, width, channels]`` tensor, or ``None``.
    """
    try:
        return tf.io.decode_image(
            tf.io.read_file(str(path)), channels=channels, expand_animations=False
        )
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError):
        return None


def warn_skipped(
    skipped: Sequence[str],
    where: str | os.PathLike,
    stacklevel: int = 2,
    what: str = "images",
    reason: str = "",
) -> None:
    """One `UserWarning` counting the files skipped in ``where`` and naming the first ones.

    Args:
        skipped: The skipped files (nothing is warned when empty).
        where: The folder they are in.
        stacklevel: As for `warnings.warn`, counted from the caller.
        what: What the files should have been, for the message.
        reason: Why they were skipped, if not that they are not ``what``
            (``"show no face"``).
    """
    if not skipped:
        return
    named = ", ".join(str(name) for name in skipped[:NAMED_SKIPPED])
    more = f" and {len(skipped) - NAMED_SKIPPED} more" if len(skipped) > NAMED_SKIPPED else ""
    reason = reason or f"are not {what} or fail to decode"
    warnings.warn(
        f"Skipped {len(skipped)} file(s) in {where} that {reason}: {named}{more}.",
        UserWarning,
        stacklevel=stacklevel + 1,
    )


def resized_image_file(
    path: str | os.PathLike, image_size: tuple[int, int], channels: int
) -> np.ndarray | None:
    """The image a file holds, resized (antialiased) to ``image_size``; ``None`` if unreadable.

    Returns:
        ``uint8 [height, width, channels]``, or ``None`` (see `decode_image_file`).
    """
    image = decode_image_file(path, channels)
    if image is None:
        return None
    resized = tf.image.resize(image, image_size, antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8).numpy()


def _load_split(
    root: Path, class_names: tuple[str, ...], image_size, channels, skipped: list[str]
) -> ImageSplit:
    images, labels = [], []
    for label, name in enumerate(class_names):
        folder = root / name
        files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        loaded = 0
        for path in files:
            image = None
            if path.suffix.lower() in IMAGE_EXTENSIONS:
                image = resized_image_file(path, image_size, channels)
            if image is None:
                skipped.append(str(path))
                continue
            images.append(image)
            labels.append(label)
            loaded += 1
        if not loaded:
            raise ValueError(
                f"Class folder {folder} holds no readable image ({len(files)} files, "
                f"extensions accepted: {', '.join(IMAGE_EXTENSIONS)}). Add images or remove "
                "the folder."
            )
    return ImageSplit(np.stack(images), np.asarray(labels, dtype=np.int64))


def _draw_test_split(split: ImageSplit, test_fraction: float, seed: int) -> dict[str, ImageSplit]:
    order = np.random.default_rng(seed).permutation(len(split))
    n_test = int(round(len(split) * test_fraction))
    if not 0 < n_test < len(split):
        raise ValueError(
            f"test_fraction={test_fraction} of {len(split)} images leaves {n_test} for the "
            "test split; both splits need at least one image."
        )
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    return {
        TRAIN: ImageSplit(split.images[train], split.labels[train]),
        TEST: ImageSplit(split.images[test], split.labels[test]),
    }


def load_image_folder(
    directory: str | os.PathLike,
    image_size: tuple[int, int] = (224, 224),
    channels: int = 3,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> ImageFolder:
    """Loads a class-per-subfolder image directory, resized, into memory.

    Layouts: ``root/<class>/<image>`` (a seeded ``test_fraction`` becomes the
    test split), or ``root/<split>/<class>/<image>`` with splits named
    ``train``, ``validation``, ``test`` (the `tfds.folder_dataset.ImageFolder`
    layout; classes are the union over splits).

    Args:
        directory: The root folder.
        image_size: ``(height, width)`` every image is resized to.
        channels: 1 (grayscale) or 3 (RGB).
        test_fraction: Share held out as test when there are no split folders.
        seed: Seed of that draw.

    Returns:
        An `ImageFolder`.

    Raises:
        ValueError: If the folder is missing or has no class folders, a class
            folder has no readable image, or an argument is invalid.

    Example:
        >>> folder = load_image_folder("flowers/", image_size=(64, 64))  # doctest: +SKIP
        >>> folder.class_names, folder.splits["train"].images.shape  # doctest: +SKIP
    """
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"Image folder {root} does not exist or is not a directory.")
    if channels not in (1, 3):
        raise ValueError(
            "Invalid value for argument `channels`. Expected 1 or 3. "
            f"Received channels={channels!r}."
        )
    size = tuple(int(n) for n in image_size)
    split_roots = {name: root / name for name in SPLIT_NAMES if (root / name).is_dir()}
    skipped: list[str] = []
    if TRAIN in split_roots:
        class_names = tuple(
            sorted(
                {folder.name for split in split_roots.values() for folder in _class_folders(split)}
            )
        )
        splits = {
            name: _load_split(path, class_names, size, channels, skipped)
            for name, path in split_roots.items()
        }
        if TEST not in splits:
            splits = {**splits, **_draw_test_split(splits[TRAIN], test_fraction, seed)}
    else:
        class_names = tuple(folder.name for folder in _class_folders(root))
        everything = _load_split(root, class_names, size, channels, skipped)
        splits = _draw_test_split(everything, test_fraction, seed)
    warn_skipped(skipped, root)
    return ImageFolder(class_names=class_names, splits=splits, skipped=tuple(skipped))
