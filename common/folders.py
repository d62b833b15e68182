"""Folders written whole: a staged folder takes the place of the old one (`swap_in`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def swap_in(staging: Path, target: Path) -> None:
    """Puts the finished ``staging`` folder at ``target``, replacing what was there.

    Both must be on one file system (``staging`` made next to ``target``):
    the renames are atomic, so ``target`` is at any moment the old folder or
    the new one, never half of each. The old folder is deleted last.
    """
    old = target.with_name(f".{target.name}.old")
    if target.exists():
        os.rename(target, old)
    os.rename(staging, target)
    shutil.rmtree(old, ignore_errors=True)
