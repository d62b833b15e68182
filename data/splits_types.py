"""The in-memory split types the readers return: images, texts, tags, series, pairs, captions.

Each holds one split as NumPy arrays (or tuples), with ``len`` and, where a
pipeline draws from it, ``subset``; `DatasetSplits` holds the three splits
of one dataset. What describes a dataset (names, shapes, labels) is
`data.specs`.
"""

from __future__ import annotations

import dataclasses
from typing import Generic, TypeVar

import numpy as np


@dataclasses.dataclass(frozen=True)
class ImageSplit:
    """Images and integer labels of one split, as NumPy arrays.

    Attributes:
        images: ``uint8`` array of shape ``(n, *spec.input_shape)``.
        labels: ``int`` array of shape ``(n,)`` with values in ``[0, num_classes)``.
    """

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclasses.dataclass(frozen=True)
class TextSplit:
    """Texts and integer labels, as NumPy arrays.

    Attributes:
        texts: ``object`` array of ``str``, shape ``(n,)``.
        labels: ``int`` array of shape ``(n,)`` with values in ``[0, num_classes)``.
    """

    texts: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, indices: np.ndarray) -> TextSplit:
        """The examples at ``indices``, in that order."""
        return TextSplit(self.texts[indices], self.labels[indices])


@dataclasses.dataclass(frozen=True)
class TaggedSplit:
    """Tokenized sentences with one tag per token.

    Attributes:
        tokens: One tuple of tokens per sentence.
        tags: One tuple of tags per sentence, as long as its tokens.
    """

    tokens: tuple[tuple[str, ...], ...]
    tags: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        return len(self.tokens)

    def subset(self, indices: np.ndarray) -> TaggedSplit:
        """The sentences at ``indices``, in that order."""
        return TaggedSplit(
            tuple(self.tokens[i] for i in indices), tuple(self.tags[i] for i in indices)
        )


@dataclasses.dataclass(frozen=True)
class Series:
    """A regularly sampled time series, oldest first.

    Attributes:
        times: Time stamps as strings (ISO dates or years), shape ``(n,)``.
        values: ``float32`` array ``(n, len(columns))``, no missing values.
        columns: Names of the value columns.
    """

    times: np.ndarray
    values: np.ndarray
    columns: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def select(self, columns: tuple[str, ...]) -> Series:
        """The series restricted to ``columns``, in that order.

        Raises:
            ValueError: If a column is missing; the message lists the columns.
        """
        missing = [name for name in columns if name not in self.columns]
        if missing:
            raise ValueError(
                f"Invalid value for argument `columns`. The series has no column "
                f"{', '.join(map(repr, missing))}; its columns are {list(self.columns)}. "
                f"Received columns={list(columns)}."
            )
        positions = [self.columns.index(name) for name in columns]
        return Series(self.times, self.values[:, positions], tuple(columns))


@dataclasses.dataclass(frozen=True)
class ParallelSplit:
    """Source and target sentences, aligned by position.

    Attributes:
        sources: ``object`` array of source strings.
        targets: ``object`` array of target strings.
    """

    sources: np.ndarray
    targets: np.ndarray

    def __len__(self) -> int:
        return int(self.sources.shape[0])

    def subset(self, indices: np.ndarray) -> ParallelSplit:
        """The pairs at ``indices``, in that order."""
        return ParallelSplit(self.sources[indices], self.targets[indices])


@dataclasses.dataclass(frozen=True)
class CaptionSplit:
    """Images with one or more captions each.

    Attributes:
        images: ``uint8 [n, height, width, 3]``.
        captions: For each image, its captions.
    """

    images: np.ndarray
    captions: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, indices: np.ndarray) -> CaptionSplit:
        """The images at ``indices``, in that order."""
        return CaptionSplit(self.images[indices], tuple(self.captions[i] for i in indices))


SplitT = TypeVar("SplitT")


@dataclasses.dataclass(frozen=True)
class DatasetSplits(Generic[SplitT]):
    """The train, validation and test splits of one dataset, of any split type.

    Attributes:
        name: Dataset name, fit for folder and model names.
        train: Training split.
        validation: Validation split.
        test: Test split.
        class_names: Label names in label order, where the data has labels.
    """

    name: str
    train: SplitT
    validation: SplitT
    test: SplitT
    class_names: tuple[str, ...] = ()

    def parts(self) -> dict[str, SplitT]:
        """``{"train": ..., "validation": ..., "test": ...}``."""
        return {"train": self.train, "validation": self.validation, "test": self.test}
