"""Finding and aligning the face in an ordinary photo, before it is embedded.

Measured on this machine before choosing (``skimage.data.astronaut()``, one
face, 512 x 512): the ``mtcnn`` package (MIT, its detector weights bundled,
runs on TensorFlow) finds the face in about 0.3 s with its eyes, nose and
mouth corners; OpenCV's Haar cascade finds it in about 0.2 s but gives a box
only (and OpenCV 5 no longer ships the cascades). With the eyes, a face can
be aligned: `align_face` rotates, scales and shifts the photo so the eyes
land on fixed points of a square crop (`EYE_ROW`, `EYE_GAP`), level, the
way the synthetic faces of `data.face_synth` are drawn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from PIL import Image

from common.validation import check_fraction, check_positive_int

EYE_ROW = 0.44
"""Height of the eyes in an aligned crop, a share of its side."""
EYE_GAP = 0.24
"""Distance between the eyes in an aligned crop, a share of its side."""
INSTALL_HINT = "install it with `pip install mtcnn` (`make setup` does)"


@dataclasses.dataclass(frozen=True)
class FoundFace:
    """The most confident face found in a photo.

    Attributes:
        box: ``(x, y, width, height)`` in pixels of the photo.
        confidence: The detector's confidence, 0 to 1.
        left_eye: ``(x, y)`` of the eye on the photo's left.
        right_eye: ``(x, y)`` of the eye on the photo's right.
    """

    box: tuple[int, int, int, int]
    confidence: float
    left_eye: tuple[float, float]
    right_eye: tuple[float, float]


def face_detector():
    """A new mtcnn detector (its weights load once per detector: share it across photos).

    Raises:
        ImportError: If mtcnn is not installed, saying how to install it.
    """
    try:
        from mtcnn import MTCNN
    except ImportError:
        raise ImportError(f"Face detection needs the mtcnn package: {INSTALL_HINT}.") from None
    return MTCNN()


def _rgb(photo) -> np.ndarray:
    photo = np.asarray(photo)
    if photo.ndim == 2:
        photo = np.repeat(photo[..., None], 3, axis=-1)
    if photo.ndim != 3 or photo.shape[-1] not in (1, 3, 4):
        raise ValueError(
            "Invalid value for argument `photo`. Expected an image [height, width] or "
            f"[height, width, 1, 3 or 4 channels]. Received shape {photo.shape}."
        )
    if photo.dtype != np.uint8:
        raise ValueError(
            "Invalid value for argument `photo`. Expected uint8 pixels (0-255). Received "
            f"dtype {photo.dtype}: convert with np.clip(photo, 0, 255).astype(np.uint8) "
            "(multiply floats in [0, 1] by 255 first)."
        )
    if photo.shape[-1] == 1:
        photo = np.repeat(photo, 3, axis=-1)
    return np.ascontiguousarray(photo[..., :3])


def find_face(photo, min_confidence: float = 0.9, detector=None) -> FoundFace | None:
    """The most confident face in a photo, or ``None`` when none is found.

    Args:
        photo: ``uint8`` RGB, grayscale or RGBA pixels.
        min_confidence: Faces found with less confidence are not faces.
        detector: A `face_detector` to reuse; a new one when ``None``.

    Returns:
        A `FoundFace`, or ``None``.

    Raises:
        ValueError: If ``photo`` is not ``uint8`` pixels of an image shape.
    """
    check_fraction("min_confidence", min_confidence)
    if detector is None:
        detector = face_detector()
    found = [
        face for face in detector.detect_faces(_rgb(photo)) if face["confidence"] >= min_confidence
    ]
    if not found:
        return None
    best = max(found, key=lambda face: face["confidence"])
    points = best["keypoints"]
    eyes = sorted([points["left_eye"], points["right_eye"]], key=lambda point: point[0])
    return FoundFace(
        tuple(int(v) for v in best["box"]),
        float(best["confidence"]),
        tuple(float(v) for v in eyes[0]),
        tuple(float(v) for v in eyes[1]),
    )


def align_face(photo, face: FoundFace, size: int = 64) -> np.ndarray:
    """The ``size`` square crop with ``face``'s eyes level at `EYE_ROW`, `EYE_GAP` apart.

    Args:
        photo: The photo ``face`` was found in (``uint8`` pixels).
        face: Its `FoundFace`.
        size: Side of the crop, in pixels.

    Returns:
        ``uint8 [size, size, 3]``; parts of the crop outside the photo are black.

    Raises:
        ValueError: On a bad size or photo, or a face whose eyes coincide.
    """
    check_positive_int("size", size)
    left, right = np.asarray(face.left_eye), np.asarray(face.right_eye)
    target_left = np.array([0.5 - EYE_GAP / 2, EYE_ROW]) * size
    gap = np.linalg.norm(right - left)
    if gap == 0:
        raise ValueError(
            "Invalid value for argument `face`. Expected two eyes apart. Received both eyes at "
            f"{face.left_eye}."
        )
    scale = gap / (EYE_GAP * size)  # photo pixels per crop pixel
    angle = np.arctan2(*(right - left)[::-1])
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    # PIL maps each crop pixel (x, y) to the photo pixel (a x + b y + c, d x + e y + f)
    c = left[0] - (cos * target_left[0] - sin * target_left[1])
    f = left[1] - (sin * target_left[0] + cos * target_left[1])
    crop = Image.fromarray(_rgb(photo)).transform(
        (size, size), Image.AFFINE, (cos, -sin, c, sin, cos, f), resample=Image.BILINEAR
    )
    return np.asarray(crop)


def aligned_faces(
    photos: Sequence, size: int = 64, min_confidence: float = 0.9
) -> tuple[np.ndarray, list[int]]:
    """Each photo's face, found and aligned; the photos with none are returned by position.

    Args:
        photos: Images of any size, RGB, grayscale or RGBA ``uint8``.
        size: Side of each aligned crop.
        min_confidence: Faces found with less confidence are not faces.

    Returns:
        ``(crops, missing)``: ``uint8 [photos with a face, size, size, 3]`` and
        the positions of the photos where no face was found.
    """
    check_positive_int("size", size)
    detector = face_detector()
    crops, missing = [], []
    for position, photo in enumerate(photos):
        face = find_face(photo, min_confidence, detector)
        if face is None:
            missing.append(position)
        else:
            crops.append(align_face(photo, face, size))
    empty = np.zeros((0, size, size, 3), np.uint8)
    return (np.stack(crops) if crops else empty), missing
