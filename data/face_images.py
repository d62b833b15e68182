"""The container of face photos: which person each photo shows (`FaceImages`)."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class FaceImages:
    """Face photos and who is in each.

    Attributes:
        images: ``uint8 [n, height, width, 3]``.
        labels: ``int64 [n]``: ``names[label]`` is the person.
        names: The people, one name each.
    """

    images: np.ndarray
    labels: np.ndarray
    names: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.labels.shape[0])
