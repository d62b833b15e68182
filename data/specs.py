"""Dataset specs: names, tasks, shapes and label names, in one place.

Everything that describes a dataset (as opposed to where its files live, see
`data.catalog`) is declared here, so models and pipelines read shapes and
class names from one source of truth.
"""

from __future__ import annotations

import dataclasses

import numpy as np

IMAGE_CLASSIFICATION = "image_classification"
TASKS = (IMAGE_CLASSIFICATION,)

TRAIN = "train"
VALIDATION = "validation"
TEST = "test"


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What a dataset is, independent of where it is read from.

    Attributes:
        name: Catalog name, e.g. ``"fashion_mnist"``.
        task: One of `TASKS`.
        input_shape: Shape of one example, channels last, e.g. ``(28, 28, 1)``.
        class_names: Human-readable label names; label ``i`` is ``class_names[i]``.
        splits: Split names the sources provide.
        pixel_dtype: dtype of raw pixels as stored (images are ``uint8`` 0..255).
        how_to_provide: What a user can do when no source has the data.
    """

    name: str
    task: str
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...]
    splits: tuple[str, ...]
    pixel_dtype: str = "uint8"
    how_to_provide: str = ""

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)


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


FASHION_MNIST = DatasetSpec(
    name="fashion_mnist",
    task=IMAGE_CLASSIFICATION,
    input_shape=(28, 28, 1),
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    splits=(TRAIN, TEST),
    how_to_provide=(
        "On Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist` "
        "(installs /usr/share/datasets/fashion-mnist). Elsewhere: copy the four files "
        "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        "t10k-labels-idx1-ubyte.gz into $KERAS_HOME/datasets/fashion-mnist/ "
        "(default ~/.keras/datasets/fashion-mnist/), or run once with internet access."
    ),
)

DIGITS = DatasetSpec(
    name="digits",
    task=IMAGE_CLASSIFICATION,
    input_shape=(8, 8, 1),
    class_names=tuple(str(digit) for digit in range(10)),
    splits=(TRAIN, TEST),
    how_to_provide="Install scikit-learn (`pip install scikit-learn`); it ships the data.",
)

SPECS: dict[str, DatasetSpec] = {spec.name: spec for spec in (FASHION_MNIST, DIGITS)}
