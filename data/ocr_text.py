"""Text images as OCR data: the container, the alphabet, and image height and width.

Every OCR source (rendered plates, text lines and captchas, or a folder a
user brings) yields a `TextImages`: ``uint8`` grayscale images of one height
and their own widths, with their texts. `pad_images` turns them into one
batch-shaped array for a model that reads columns left to right, and
`training_arrays` into the arrays a reader trains on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image

from common.validation import check_positive_int

NAMED_CHARACTERS = 10  # an alphabet error names this many offending characters


@dataclasses.dataclass(frozen=True)
class TextImages:
    """Images of text lines and their texts.

    Attributes:
        images: ``uint8 [height, width]`` grayscale arrays, one height, any widths.
        texts: The text each image shows.
        fonts: The font file each image was rendered in (empty for images a user brings).
    """

    images: tuple[np.ndarray, ...]
    texts: tuple[str, ...]
    fonts: tuple[str, ...] = ()

    def __post_init__(self):
        if len(self.images) != len(self.texts) or (
            self.fonts and len(self.fonts) != len(self.texts)
        ):
            raise ValueError(
                f"TextImages needs one text (and one font, if any) per image. Received "
                f"{len(self.images)} images, {len(self.texts)} texts, {len(self.fonts)} fonts."
            )

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Iterable[int]) -> TextImages:
        """The images at ``indices``, in that order."""
        indices = [int(index) for index in indices]
        return TextImages(
            images=tuple(self.images[i] for i in indices),
            texts=tuple(self.texts[i] for i in indices),
            fonts=tuple(self.fonts[i] for i in indices) if self.fonts else (),
        )


def alphabet_of(texts: Iterable[str]) -> str:
    """The sorted set of characters used by ``texts``.

    Args:
        texts: Label strings.

    Returns:
        One string holding each character once, sorted by code point.

    Example:
        >>> alphabet_of(["AB12", "BA 21"])
        ' 12AB'
    """
    return "".join(sorted(set("".join(texts))))


FIX_ALPHABET = (
    "Add them to the alphabet (alphabet_of(texts) of the training labels), or map or drop "
    "those labels."
)


def check_alphabet(texts: Sequence[str], alphabet: str, fix: str = FIX_ALPHABET) -> None:
    """Raises if a label uses a character outside ``alphabet``.

    Args:
        texts: Label strings.
        alphabet: The characters a model can output.
        fix: The last sentence of the error: what the caller's user can do.

    Raises:
        ValueError: Naming the offending characters, how many labels hold them,
            the first such label, and the fix.
    """
    allowed = set(alphabet)
    offending = sorted(set("".join(texts)) - allowed)
    if not offending:
        return
    bad = [text for text in texts if not set(text) <= allowed]
    named = " ".join(repr(char) for char in offending[:NAMED_CHARACTERS])
    more = (
        f" and {len(offending) - NAMED_CHARACTERS} more"
        if len(offending) > NAMED_CHARACTERS
        else ""
    )
    raise ValueError(
        f"{len(bad)} label(s) use {len(offending)} character(s) outside the alphabet: "
        f"{named}{more} (first such label: {bad[0]!r}). {fix}"
    )


def encode_texts(texts: Sequence[str], alphabet: str) -> np.ndarray:
    """Labels as CTC targets: ``int32 [n, longest]``, ``alphabet[i]`` as ``i + 1``, padded with 0.

    Id 0 is the blank of `models.ctc` (and of `keras.losses.CTC`, which
    reads a label's length as its count of non-zero ids).

    Args:
        texts: The labels (at least one).
        alphabet: The characters, each once.

    Raises:
        ValueError: On an empty or repeating alphabet, no text, an empty text
            (CTC cannot learn one) or a character outside the alphabet (`check_alphabet`).
    """
    if not alphabet or len(set(alphabet)) != len(alphabet):
        raise ValueError(
            "Invalid value for argument `alphabet`. Expected characters, each once "
            f"(alphabet_of(texts)). Received alphabet={alphabet!r}."
        )
    if not texts or not all(texts):
        raise ValueError(
            "Invalid value for argument `texts`. Expected at least one label and no empty "
            f"label. Received {len(texts)} label(s), "
            f"{sum(not text for text in texts)} empty."
        )
    check_alphabet(texts, alphabet)
    ids = {char: index + 1 for index, char in enumerate(alphabet)}
    encoded = np.zeros((len(texts), max(map(len, texts))), np.int32)
    for row, text in zip(encoded, texts):
        row[: len(text)] = [ids[char] for char in text]
    return encoded


def resize_to_height(image: np.ndarray, height: int) -> np.ndarray:
    """A ``uint8 [h, w]`` image resized to ``height`` rows, its aspect ratio kept.

    Args:
        image: The grayscale image.
        height: Rows of the result.

    Returns:
        ``uint8 [height, max(1, round(w * height / h))]``.
    """
    check_positive_int("height", height)
    rows, columns = image.shape[:2]
    if rows == height:
        return np.ascontiguousarray(image, np.uint8)
    width = max(1, int(round(columns * height / rows)))
    resized = Image.fromarray(np.asarray(image, np.uint8)).resize(
        (width, height), Image.Resampling.LANCZOS
    )
    return np.asarray(resized, np.uint8)


def pad_images(images: Sequence[np.ndarray], width: int | None = None):
    """Images of one height padded on the right to one width, as one array.

    The padding is each image's median grey level, its background on a text
    image, so it reads as more background rather than a black or white bar.

    Args:
        images: ``uint8 [height, w_i]`` arrays of the same height.
        width: Width of the result; the widest image's when ``None``.

    Returns:
        ``(batch, widths)``: ``uint8 [n, height, width]`` and the ``int32 [n]``
        widths before padding.

    Raises:
        ValueError: If the images differ in height or one is wider than ``width``.
    """
    if not images:
        raise ValueError("Invalid value for argument `images`. Expected at least one image.")
    heights = {image.shape[0] for image in images}
    if len(heights) != 1:
        raise ValueError(
            "Invalid value for argument `images`. Expected images of one height. "
            f"Received heights {sorted(heights)}."
        )
    widths = np.asarray([image.shape[1] for image in images], np.int32)
    target = int(widths.max()) if width is None else check_positive_int("width", width)
    if widths.max() > target:
        raise ValueError(
            f"Invalid value for argument `width`. Expected at least the widest image "
            f"({widths.max()} px). Received width={width}."
        )
    batch = np.empty((len(images), images[0].shape[0], target), np.uint8)
    for row, image in zip(batch, images):
        row[:] = np.median(image)
        row[:, : image.shape[1]] = image
    return batch, widths


def training_arrays(split: TextImages, alphabet: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """A split as arrays a reader trains on: every image padded to the widest, labels as ids.

    One width for the whole split keeps the shapes a training step sees
    static (faster on a CPU than batches of their own widths, padding
    included); each image's own width goes beside it, for the reader to
    mask its padding (`models.ocr.text_reader`).

    Args:
        split: Images of one height and their texts.
        alphabet: The reader's characters (labels use ids ``1..len(alphabet)``, 0 pads).

    Returns:
        ``({"images": uint8 [n, height, widest, 1], "widths": int32 [n]},
        int32 [n, longest label])``.

    Raises:
        ValueError: On a label with a character outside the alphabet, or an empty label.
    """
    labels = encode_texts(split.texts, alphabet)
    images, widths = pad_images(split.images)
    return {"images": images[..., np.newaxis], "widths": widths}, labels
