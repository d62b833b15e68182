"""TensorFlow Datasets by name (``tfds:<name>``), failing fast when offline.

A dataset already prepared in the TFDS data folder is read directly. One
that is not is downloaded only when downloads are allowed and TFDS's host
answers a short probe; otherwise `DatasetUnavailableError` says, within
seconds, how to prepare it elsewhere and where to copy it (TFDS itself would
retry for minutes).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from data.errors import DatasetUnavailableError

TFDS_PREFIX = "tfds:"
TFDS_HOST = "storage.googleapis.com"


def tfds_name(dataset: str) -> str | None:
    """The TFDS name in ``"tfds:<name>"``, or None for other dataset strings."""
    if not dataset.startswith(TFDS_PREFIX):
        return None
    name = dataset[len(TFDS_PREFIX) :].strip()
    if not name:
        raise ValueError(
            "Invalid value for argument `dataset`. Expected tfds:<name>, e.g. "
            f"tfds:imdb_reviews. Received dataset={dataset!r}."
        )
    return name


def default_tfds_dir() -> Path:
    """TFDS's data folder: ``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``."""
    return Path(os.environ.get("TFDS_DATA_DIR") or Path.home() / "tensorflow_datasets")


def load_tfds_examples(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    allow_download: bool = True,
    probe: Callable[[str], bool] | None = None,
) -> tuple[object, dict[str, Iterator[dict]]]:
    """Every split of a TFDS dataset, as iterators of NumPy example dicts.

    Args:
        name: TFDS name, optionally with a config/version
            (``"imdb_reviews"``, ``"conll2003"``).
        data_dir: TFDS data folder (default `default_tfds_dir`).
        allow_download: Whether an unprepared dataset may be downloaded.
        probe: ``(host) -> bool``; default `data.sources.host_reachable`.

    Returns:
        ``(info, splits)``: the dataset's `tfds.core.DatasetInfo` (its
        ``features`` hold label names, ``supervised_keys`` the input and
        target feature names) and split name -> iterator of examples
        (``{"text": b"...", "label": 1}``).

    Raises:
        ValueError: If TFDS has no dataset of that name.
        DatasetUnavailableError: If it is not prepared and cannot be downloaded.
    """
    import tensorflow_datasets as tfds

    from data.sources import host_reachable

    data_dir = Path(data_dir) if data_dir else default_tfds_dir()
    try:
        builder = tfds.builder(name, data_dir=str(data_dir))
    except tfds.core.registered.DatasetNotFoundError as error:
        raise ValueError(
            f"TFDS has no dataset {name!r} (dataset=tfds:{name}); see "
            "https://www.tensorflow.org/datasets/catalog for names."
        ) from error
    try:
        return _all_splits(builder, tfds)
    except AssertionError:  # not prepared in data_dir
        pass
    if not allow_download or not (probe or host_reachable)(TFDS_HOST):
        raise DatasetUnavailableError(
            f"TFDS dataset {name!r} is not prepared in {data_dir} and "
            + ("downloads are off" if not allow_download else f"{TFDS_HOST} does not answer")
            + f". On a machine with internet run `tfds build {name}` (or "
            f"`python -c \"import tensorflow_datasets as tfds; tfds.load('{name}')\"`), then "
            f"copy its ~/tensorflow_datasets/{name.split('/')[0]} folder into {data_dir} "
            "(or set TFDS_DATA_DIR)."
        )
    builder.download_and_prepare()
    return _all_splits(builder, tfds)


def _all_splits(builder, tfds) -> tuple[object, dict[str, Iterator[dict]]]:
    splits = list(builder.info.splits.keys()) or ["train", "test"]
    datasets = {split: tfds.as_numpy(builder.as_dataset(split=split)) for split in splits}
    return builder.info, datasets
