"""TrueType fonts to render OCR training text in: those of the OS and those matplotlib ships.

Rendered text only teaches a model as many letter shapes as there are
fonts, and a held-out-fonts split needs several, so the OCR data draws on
every text font installed: Debian's font packages under ``/usr/share/fonts``
and the DejaVu, STIX and Computer Modern fonts inside matplotlib.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from pathlib import Path

FONT_DIRECTORIES = ("/usr/share/fonts",)
DEBIAN_FONT_PACKAGES = (
    "fonts-dejavu-core",
    "fonts-liberation2",
    "fonts-freefont-ttf",
    "fonts-noto-mono",
)
# Fonts whose letters are not letters: symbol and math sets, display variants
# without ASCII, and a fallback font that draws every character as one box.
NOT_TEXT_FONTS = re.compile(
    r"LastResort|STIXNonUni|STIXSiz|Display|Math|^cm(ex|sy|mi)10\.", re.IGNORECASE
)


def matplotlib_font_directory() -> Path | None:
    """The folder of matplotlib's bundled TrueType fonts, or ``None`` without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return None
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@functools.cache
def _characters(path: str) -> frozenset[str]:
    from fontTools.ttLib import TTFont  # a matplotlib dependency

    with TTFont(path, lazy=True) as font:
        return frozenset(map(chr, font["cmap"].getBestCmap()))


def font_covers(path: str | os.PathLike, characters: str) -> bool:
    """Whether a TrueType font has a glyph for each of ``characters``."""
    return set(characters) <= _characters(str(path))


def find_fonts(
    characters: str = "",
    directories: Iterable[str | os.PathLike] | None = None,
    include_matplotlib: bool = True,
) -> tuple[str, ...]:
    """The text fonts installed here, sorted by file name, one per file name.

    The OS's fonts (``.ttf`` below ``directories``) come before matplotlib's,
    so a font both hold (DejaVu) is taken from the OS. Symbol and math fonts
    are left out (`NOT_TEXT_FONTS`).

    Args:
        characters: Keep only fonts with a glyph for each of these.
        directories: Folders searched recursively; `FONT_DIRECTORIES` when ``None``.
        include_matplotlib: Whether to add the fonts matplotlib ships.

    Returns:
        Font file paths, sorted by file name.

    Raises:
        FileNotFoundError: If no font qualifies, naming what to install.

    Example:
        >>> fonts = find_fonts("AB12")  # doctest: +SKIP
        >>> [Path(font).name for font in fonts[:2]]  # doctest: +SKIP
        ['DejaVuSans-Bold.ttf', 'DejaVuSans-BoldOblique.ttf']
    """
    folders = [Path(folder) for folder in (directories or FONT_DIRECTORIES)]
    bundled = matplotlib_font_directory() if include_matplotlib else None
    if bundled is not None:
        folders.append(bundled)
    by_name: dict[str, str] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.ttf"), key=lambda p: (p.name.lower(), str(p))):
            if path.name not in by_name and not NOT_TEXT_FONTS.search(path.name):
                by_name[path.name] = str(path)
    fonts = tuple(
        by_name[name] for name in sorted(by_name) if font_covers(by_name[name], characters)
    )
    if not fonts:
        covering = f" with glyphs for {characters!r}" if characters else ""
        raise FileNotFoundError(
            f"No TrueType text font{covering} found in {', '.join(map(str, folders))}. "
            f"Install fonts: `sudo apt-get install {' '.join(DEBIAN_FONT_PACKAGES)}` "
            "(or `make data`), or `pip install matplotlib`, which ships DejaVu fonts."
        )
    return fonts
