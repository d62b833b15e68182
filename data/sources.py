"""Places a dataset can come from, tried in order by the catalog.

Each source either returns the dataset's splits or raises `SourceUnavailableError`
with the reason, quickly: a source that needs the network first checks, with a
short timeout, that the download host answers at all.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from common.network import host_reachable
from data.errors import SourceUnavailableError
from data.idx import read_idx
from data.specs import TEST, TRAIN
from data.splits_types import (
    CaptionSplit,
    ImageSplit,
    ParallelSplit,
    Series,
    TaggedSplit,
    TextSplit,
)

Splits = dict[str, ImageSplit | TextSplit | TaggedSplit | Series | ParallelSplit | CaptionSplit]


class Source(abc.ABC):
    """One place a dataset can be read from."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Where this source looks, for error messages and logs."""

    @abc.abstractmethod
    def load(self) -> Splits:
        """Reads the dataset.

        Returns:
            A mapping from split name to its examples (`ImageSplit`, `TextSplit`,
            `TaggedSplit` or `Series`).

        Raises:
            SourceUnavailableError: If this source cannot provide the data; the
                message says why.
        """


class IdxDirectorySource(Source):
    """MNIST-style IDX files (optionally gzipped) in one directory.

    Args:
        directory: Folder holding the files.
        files: Split name -> (images file name, labels file name).
        image_shape: Shape of one image, channels last; a missing channel axis
            in the file is added.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        files: dict[str, tuple[str, str]],
        image_shape: tuple[int, ...],
    ):
        self.directory = Path(directory)
        self.files = dict(files)
        self.image_shape = tuple(image_shape)

    def describe(self) -> str:
        return f"directory {self.directory}"

    def load(self) -> Splits:
        if not self.directory.is_dir():
            raise SourceUnavailableError("directory does not exist")
        names = [name for pair in self.files.values() for name in pair]
        missing = [name for name in names if not (self.directory / name).is_file()]
        if missing:
            raise SourceUnavailableError(f"missing {', '.join(missing)}")
        splits = {}
        for split, (images_name, labels_name) in self.files.items():
            try:
                images = read_idx(self.directory / images_name)
                labels = read_idx(self.directory / labels_name)
            except (OSError, ValueError) as error:
                raise SourceUnavailableError(str(error)) from error
            if images.shape[0] != labels.shape[0]:
                raise SourceUnavailableError(
                    f"{images_name} has {images.shape[0]} images but {labels_name} has "
                    f"{labels.shape[0]} labels"
                )
            images = images.reshape((images.shape[0], *self.image_shape))
            splits[split] = ImageSplit(images=images, labels=labels.astype(np.int64))
        return splits


class DownloadSource(Source):
    """Data downloaded by a loader function, tried only when the host answers.

    Args:
        url: Where the loader downloads from (shown in messages).
        host: Host to probe before downloading.
        loader: Function returning the splits; it downloads and caches.
        probe: Function ``(host) -> bool`` telling whether the network is up;
            defaults to `host_reachable` with a 2-second timeout.
    """

    def __init__(
        self,
        url: str,
        host: str,
        loader: Callable[[], Splits],
        probe: Callable[[str], bool] = host_reachable,
    ):
        self.url = url
        self.host = host
        self.loader = loader
        self.probe = probe

    def describe(self) -> str:
        return f"download from {self.url}"

    def load(self) -> Splits:
        if not self.probe(self.host):
            raise SourceUnavailableError(f"{self.host} is not reachable (offline?)")
        try:
            return self.loader()
        except Exception as error:  # noqa: BLE001 - any download failure means unavailable
            raise SourceUnavailableError(f"download failed: {error}") from error


class FunctionSource(Source):
    """Data produced by a local function, e.g. a dataset shipped in a package.

    Args:
        description: What the function reads, for messages.
        loader: Function returning the splits. `ImportError` and `OSError`
            mean unavailable.
    """

    def __init__(self, description: str, loader: Callable[[], Splits]):
        self.description = description
        self.loader = loader

    def describe(self) -> str:
        return self.description

    def load(self) -> Splits:
        try:
            return self.loader()
        except (ImportError, OSError) as error:
            raise SourceUnavailableError(str(error)) from error


def keras_fashion_mnist() -> Splits:
    """Downloads Fashion-MNIST through `keras.datasets` (needs the network)."""
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    return {
        TRAIN: ImageSplit(x_train[..., np.newaxis], y_train.astype(np.int64)),
        TEST: ImageSplit(x_test[..., np.newaxis], y_test.astype(np.int64)),
    }


def sklearn_digits(test_fraction: float = 0.2, split_seed: int = 0) -> Splits:
    """The 8x8 digits bundled with scikit-learn, as uint8 images in 0..255.

    The pixel values 0..16 are scaled to 0..255 so every image dataset in the
    catalog has the same range. The test split is a fixed seeded draw so test
    metrics are comparable between runs with different training seeds.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., np.newaxis]
    labels = bunch.target.astype(np.int64)
    order = np.random.default_rng(split_seed).permutation(len(labels))
    n_test = int(round(len(labels) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return {
        TRAIN: ImageSplit(images[train], labels[train]),
        TEST: ImageSplit(images[test], labels[test]),
    }
