"""Near-duplicate copies of images: what a reverse image search must still match.

Each copy is its original cropped (a random box keeping ``min_area`` of it,
resized back), maybe flipped left-right, brightened or darkened, and
re-encoded as JPEG. Used to build queries whose right answer is known
exactly: the item they were made from.
"""

from __future__ import annotations

import numpy as np

from common.validation import check_fraction, check_positive_int, check_rate


def near_duplicates(
    images: np.ndarray,
    seed: int = 0,
    min_area: float = 0.8,
    max_brightness: float = 0.2,
    jpeg_quality: int = 75,
) -> np.ndarray:
    """Altered copies of ``uint8 [n, height, width, channels]`` images, same shape.

    Args:
        images: The originals (1 or 3 channels).
        seed: Seed of the random alterations.
        min_area: Smallest share of the image a crop keeps, in ``(0, 1]``.
        max_brightness: Largest brightness change, a share of the 0-255 range.
        jpeg_quality: JPEG quality of the re-encoding (1-100).

    Returns:
        ``uint8`` copies, one per image, in order.

    Raises:
        ValueError: On a bad argument, naming it.
    """
    import tensorflow as tf

    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            "Invalid value for argument `images`. Expected uint8 images of shape (n, height, "
            f"width, 1 or 3). Received {images.dtype} of shape {images.shape}."
        )
    if min_area != 1:
        check_fraction("min_area", min_area)
    check_rate("max_brightness", max_brightness)
    if check_positive_int("jpeg_quality", jpeg_quality) > 100:
        raise ValueError(
            "Invalid value for argument `jpeg_quality`. Expected 1-100. "
            f"Received jpeg_quality={jpeg_quality}."
        )
    rng = np.random.default_rng(seed)
    height, width = images.shape[1:3]
    copies = np.empty_like(images)
    for n, image in enumerate(images):
        side = np.sqrt(rng.uniform(min_area, 1.0))
        crop_h, crop_w = max(1, round(height * side)), max(1, round(width * side))
        top, left = rng.integers(0, height - crop_h + 1), rng.integers(0, width - crop_w + 1)
        altered = tf.image.resize(
            image[top : top + crop_h, left : left + crop_w].astype(np.float32), (height, width)
        )
        if rng.random() < 0.5:
            altered = altered[:, ::-1]
        altered = altered + 255.0 * rng.uniform(-max_brightness, max_brightness)
        encoded = tf.io.encode_jpeg(
            tf.cast(tf.clip_by_value(tf.round(altered), 0, 255), tf.uint8), quality=jpeg_quality
        )
        copies[n] = tf.io.decode_jpeg(encoded, channels=images.shape[-1]).numpy()
    return copies
