"""What a task's ``dataset`` names (catalog entry, TFDS dataset or local file), and its splits.

The sequence tasks share these rules: a catalog set or a file that comes
unsplit is split three ways with the fixed `SPLIT_SEED` (test sets do not
move with the training seed); a TFDS dataset keeps its own splits.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from data.catalog import dataset_names, get_spec, load_dataset
from data.specs import FULL
from data.splits import held_out_indices, shuffled_split_indices
from data.splits_types import DatasetSplits
from data.tfds_source import load_tfds_examples, tfds_name

CATALOG, TFDS, FILE = "catalog", "tfds", "file"


@dataclasses.dataclass(frozen=True)
class DatasetChoice:
    """The resolved ``dataset`` option.

    Attributes:
        kind: `CATALOG`, `TFDS` or `FILE`.
        name: Catalog name, TFDS name (``"ted_hrlr_translate/pt_to_en"``) or
            the file's stem.
        path: The file, for `FILE`.
    """

    kind: str
    name: str
    path: Path | None = None

    @property
    def label(self) -> str:
        """The name with characters unfit for folder and model names replaced by ``_``."""
        return re.sub(r"[^0-9A-Za-z_]+", "_", self.name)


def choose_dataset(
    dataset: str, task_kind: str, file_hint: str, folders: bool = False
) -> DatasetChoice:
    """Resolves ``dataset`` for a task whose catalog datasets have ``task_kind``.

    Args:
        dataset: The option's value.
        task_kind: The `data.specs` task the catalog entry must have.
        file_hint: What a file for this task looks like, for the error message.
        folders: Whether a folder (not only a file) can be the dataset.

    Returns:
        A `DatasetChoice`.

    Raises:
        ValueError: If the value is none of the three, or a catalog dataset of
            another kind; the message lists what fits.
    """
    name = tfds_name(dataset)
    if name:
        return DatasetChoice(TFDS, name, None)
    path = Path(dataset).expanduser()
    if path.is_file() or (folders and path.is_dir()):
        return DatasetChoice(FILE, path.resolve().name.split(".")[0] or "data", path)
    fitting = [n for n in dataset_names() if get_spec(n).task == task_kind]
    if dataset in dataset_names() and get_spec(dataset).task == task_kind:
        return DatasetChoice(CATALOG, dataset)
    reason = (
        f"is a {get_spec(dataset).task} dataset"
        if dataset in dataset_names()
        else "is neither a catalog dataset nor an existing file"
    )
    raise ValueError(
        f"Invalid value for argument `dataset`: {dataset!r} {reason}. This task takes one of "
        f"{fitting}, tfds:<name>, or {file_hint}."
    )


SPLIT_SEED = 0  # fixed: test sets do not move with the training seed


def split_three_ways(full, validation_fraction: float, test_fraction: float):
    """``(train, validation, test)`` of an unsplit set, drawn with the fixed `SPLIT_SEED`."""
    parts = shuffled_split_indices(len(full), validation_fraction, test_fraction, SPLIT_SEED)
    return tuple(full.subset(indices) for indices in parts)


def draw_validation(train, validation_fraction: float):
    """``(train, validation)``: a validation split held out of a training split (`SPLIT_SEED`)."""
    kept, held_out = held_out_indices(len(train), validation_fraction, SPLIT_SEED)
    return train.subset(kept), train.subset(held_out)


def cut_to(max_examples: int, *splits):
    """Each split cut to its first ``max_examples`` examples (0: unchanged)."""
    if not max_examples:
        return splits
    return tuple(split.subset(np.arange(min(max_examples, len(split)))) for split in splits)


HELD_OUT_SPLITS = ("validation", "dev", "val")


def tfds_examples(name: str, locations):
    """``(info, {split: examples})`` of a TFDS dataset, offline rules from ``locations``."""
    return load_tfds_examples(
        name,
        allow_download=locations.allow_download if locations else True,
        probe=locations.probe if locations else None,
    )


def tfds_three_splits(name: str, splits, read, validation_fraction: float):
    """``(train, validation, test)`` of a TFDS dataset's own splits, each read by ``read(split)``.

    Test is the ``test`` split, or else the held-out split (``validation``,
    ``dev`` or ``val``); validation is a held-out split not used as test, or
    else drawn from train with `draw_validation`.

    Raises:
        ValueError: If the dataset has no ``train`` split or nothing to test on.
    """
    held_out = [split for split in HELD_OUT_SPLITS if split in splits]
    test_split = "test" if "test" in splits else (held_out.pop(0) if held_out else None)
    if "train" not in splits or test_split is None:
        raise ValueError(
            f"TFDS dataset {name!r} needs a 'train' and a 'test' (or validation) split; it has "
            f"{list(splits)}."
        )
    train, test = read("train"), read(test_split)
    if held_out:
        return train, read(held_out[0]), test
    return (*draw_validation(train, validation_fraction), test)


def unsplit_or_tfds_splits(
    choice: DatasetChoice,
    locations,
    read_file,
    read_tfds,
    *,
    validation_fraction: float,
    test_fraction: float,
    max_examples: int = 0,
) -> DatasetSplits:
    """The `DatasetSplits` of a task whose local data is one unsplit set.

    A catalog set (its `FULL` split) or a file read by ``read_file(path)`` is
    split with `split_three_ways`; a TFDS dataset comes from
    ``read_tfds()``, which keeps its own splits. Train and test are then cut
    to ``max_examples`` (0: all).
    """
    if choice.kind == TFDS:
        train, validation, test = read_tfds()
    else:
        if choice.kind == CATALOG:
            full = load_dataset(choice.name, locations)[1][FULL]
        else:
            full = read_file(choice.path)
        train, validation, test = split_three_ways(full, validation_fraction, test_fraction)
    train, test = cut_to(max_examples, train, test)
    return DatasetSplits(choice.label, train, validation, test)
