"""Seeded degradations of text images, as cameras and scanners produce them.

Each image is, in turn, warped in perspective, rotated a little, blurred,
lowered in contrast, speckled with noise and re-encoded as JPEG, each by a
random amount from none up to the `TextAugmentation` limit. NumPy and PIL
only, one image at a time: OCR images differ in width.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
from PIL import Image, ImageFilter

from common.validation import check_non_negative, check_positive_int, check_rate
from data.ocr_text import TextImages


@dataclasses.dataclass(frozen=True)
class TextAugmentation:
    """How far each degradation may go; 0 (or ``min_contrast=1``, no JPEG) turns one off.

    Attributes:
        max_rotation: Largest rotation, in degrees either way.
        max_perspective: Largest move of a corner, as a share of the image height.
        max_blur: Largest Gaussian blur radius, in pixels.
        max_noise: Largest standard deviation of Gaussian noise, in grey levels.
        min_contrast: Smallest contrast kept, a share in ``(0, 1]``.
        min_jpeg_quality: Lowest JPEG quality (1-100); ``None`` re-encodes nothing.
    """

    max_rotation: float = 3.0
    max_perspective: float = 0.1
    max_blur: float = 1.0
    max_noise: float = 12.0
    min_contrast: float = 0.5
    min_jpeg_quality: int | None = 30

    def __post_init__(self):
        check_non_negative("max_rotation", self.max_rotation)
        check_rate("max_perspective", self.max_perspective)
        check_non_negative("max_blur", self.max_blur)
        check_non_negative("max_noise", self.max_noise)
        if not 0 < self.min_contrast <= 1:
            raise ValueError(
                "Invalid value for argument `min_contrast`. Expected a value in (0, 1]. "
                f"Received min_contrast={self.min_contrast!r}."
            )
        if self.min_jpeg_quality is not None and (
            check_positive_int("min_jpeg_quality", self.min_jpeg_quality) > 100
        ):
            raise ValueError(
                "Invalid value for argument `min_jpeg_quality`. Expected 1-100 or None. "
                f"Received min_jpeg_quality={self.min_jpeg_quality}."
            )


def _perspective_coefficients(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 8 coefficients PIL maps each target corner back to its source corner with."""
    rows = []
    for (x, y), (u, v) in zip(target, source):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    return np.linalg.solve(np.asarray(rows, float), source.reshape(-1).astype(float))


def augment_text_image(
    image: np.ndarray, rng: np.random.Generator, augmentation: TextAugmentation | None = None
) -> np.ndarray:
    """One degraded copy of a ``uint8 [height, width]`` text image, same shape.

    Args:
        image: The grayscale image (dark text on a lighter background or not).
        rng: Draws every amount.
        augmentation: The limits; `TextAugmentation` defaults when ``None``.

    Returns:
        The ``uint8`` copy.
    """
    limits = augmentation or TextAugmentation()
    image = np.asarray(image, np.uint8)
    if image.ndim != 2:
        raise ValueError(
            "Invalid value for argument `image`. Expected a grayscale array [height, width]. "
            f"Received shape {image.shape}."
        )
    height, width = image.shape
    background = int(np.median(image))
    picture = Image.fromarray(image)
    if limits.max_perspective:
        corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], float)
        moved = corners + rng.uniform(-1, 1, (4, 2)) * limits.max_perspective * height
        picture = picture.transform(
            picture.size,
            Image.Transform.PERSPECTIVE,
            tuple(_perspective_coefficients(moved, corners)),
            Image.Resampling.BILINEAR,
            fillcolor=background,
        )
    if limits.max_rotation:
        angle = rng.uniform(-limits.max_rotation, limits.max_rotation)
        picture = picture.rotate(angle, Image.Resampling.BILINEAR, fillcolor=background)
    if limits.max_blur:
        picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(0, limits.max_blur)))
    pixels = np.asarray(picture, np.float32)
    contrast = rng.uniform(limits.min_contrast, 1.0)
    pixels = pixels.mean() + (pixels - pixels.mean()) * contrast
    pixels += rng.normal(0, rng.uniform(0, limits.max_noise), pixels.shape)
    result = np.clip(np.round(pixels), 0, 255).astype(np.uint8)
    if limits.min_jpeg_quality is not None:
        buffer = io.BytesIO()
        lowest = limits.min_jpeg_quality
        quality = int(rng.integers(lowest, max(lowest, 95) + 1))
        Image.fromarray(result).save(buffer, format="JPEG", quality=quality)
        result = np.asarray(Image.open(buffer).convert("L"), np.uint8)
    return result


def augment_text_images(
    images: TextImages, seed: int, augmentation: TextAugmentation | None = None
) -> TextImages:
    """`augment_text_image` applied to each image; texts and fonts unchanged.

    Args:
        images: The clean images.
        seed: Seed of all the draws: the same seed degrades the same way.
        augmentation: The limits; `TextAugmentation` defaults when ``None``.

    Returns:
        The degraded `TextImages`.
    """
    rng = np.random.default_rng(seed)
    degraded = tuple(augment_text_image(image, rng, augmentation) for image in images.images)
    return dataclasses.replace(images, images=degraded)
