"""What the ``dataset`` option names: a catalog entry, a TFDS dataset or a local file."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from data.catalog import dataset_names, get_spec
from data.tfds_source import tfds_name

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
