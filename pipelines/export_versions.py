"""Numbered export versions, written atomically: ``<export_dir>/<model_name>/<version>/``.

TensorFlow Serving watches a model folder and serves its highest numbered
version. A version is written to a hidden staging folder and renamed into
place, so a crash never leaves a half-written version and an existing
version is never overwritten. This module needs no TensorFlow: the export
entry point copies a logged SavedModel through it without loading one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def existing_versions(model_dir: str | os.PathLike) -> list[int]:
    """Versions already exported under ``model_dir`` (numeric folder names), sorted."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        return []
    return sorted(
        int(path.name) for path in model_dir.iterdir() if path.is_dir() and path.name.isdigit()
    )


def write_versioned(write: Callable[[Path], None], export_dir, model_name: str) -> Path:
    """Calls ``write(staging_path)``, then renames the folder to the next free version.

    A failure inside ``write`` leaves no version folder behind; an existing
    version is never touched.

    Args:
        write: Writes the version's content into the (not yet existing)
            folder it is given.
        export_dir: Root folder of exports.
        model_name: Subfolder of the model; versions are numbered inside it.

    Returns:
        The new version's folder.

    Example:
        >>> write_versioned(lambda path: path.mkdir(), "exports", "m")  # doctest: +SKIP
        PosixPath('exports/m/1')
    """
    model_dir = Path(export_dir) / model_name
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=model_dir))
    try:
        write(staging / "model")
        while True:
            version = (existing_versions(model_dir) or [0])[-1] + 1
            target = model_dir / str(version)
            try:
                os.rename(staging / "model", target)
            except OSError:
                if target.exists():  # another export took this version; take the next
                    continue
                raise
            return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)
