"""Folders written whole: a staged folder takes the place of the old one (`swap_in`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def swap_in(staging: Path, target: Path) -> None:
    """Puts the finished ``staging`` folder at ``target``, replacing what was there.

    Both must be on one file system (``staging`` made next to ``target``).
    The old folder is first renamed aside, then ``staging`` renamed into
    place; if that fails, the old folder is put back. Either way ``target``
    never holds part of one folder and part of the other. The old folder is
    deleted last (and a leftover from an interrupted swap first).
    """
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    moved = target.exists()
    if moved:
        os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError:
        if moved:
            os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
