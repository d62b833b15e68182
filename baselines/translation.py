"""Translation baseline and real parallel text: copying the source, gettext catalogs as pairs.

Copying the source is the floor any translator must clear: where source and
target share words (names, numbers, technical terms, commands), the copy
already scores BLEU. Real parallel text offline comes from the gettext
catalogs a Linux system installs (``/usr/share/locale/<language>/
LC_MESSAGES/*.mo``): each maps an English message to its translation, from
which short single-line pairs make a ``source<TAB>target`` file the
translation task reads like any Tatoeba/Anki file.

Example:
    >>> copy_source(["open the file"])
    ['open the file']
    >>> catalog_pairs({"": "header", "Quit": "Beenden"})
    [('Quit', 'Beenden')]
"""

from __future__ import annotations

import gettext
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from common.validation import check_positive_int

logger = logging.getLogger(__name__)

MAX_WORDS = 5


def copy_source(sources: Sequence[str]) -> list[str]:
    """The copy-source baseline: each source sentence predicted as its own translation."""
    return [str(source) for source in sources]


def catalog_pairs(catalog: Mapping, max_words: int = MAX_WORDS) -> list[tuple[str, str]]:
    r"""Short single-line ``(message, translation)`` pairs of a gettext catalog.

    Skipped: the header (empty message), plural forms (tuple keys), messages
    with a context (``context\x04message``), untranslated messages, and
    pairs where either side holds a line break or a tab, or more than
    ``max_words`` words. Sides are stripped of surrounding spaces.

    Args:
        catalog: Message -> translation (`gettext.GNUTranslations._catalog`).
        max_words: Most words on either side.

    Returns:
        The kept pairs, in the catalog's order.

    Raises:
        ValueError: If ``max_words`` is not a positive integer.
    """
    check_positive_int("max_words", max_words)
    pairs = []
    for message, translation in catalog.items():
        if not isinstance(message, str) or not isinstance(translation, str):
            continue
        source, target = message.strip(), translation.strip()
        if not source or not target or "\x04" in message:
            continue
        if any(mark in text for text in (source, target) for mark in "\n\r\t"):
            continue
        if max(len(source.split()), len(target.split())) > max_words:
            continue
        pairs.append((source, target))
    return pairs


def read_catalog(path: str | os.PathLike) -> dict:
    """The message -> translation dict of a compiled gettext catalog (``.mo`` file).

    Raises:
        FileNotFoundError: If the file does not exist.
        OSError: If it is not a ``.mo`` catalog (bad magic number).
        UnicodeDecodeError: If its text is not in the charset its header names.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"gettext catalog {str(path)!r} does not exist.")
    with open(path, "rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)


def gettext_pairs(
    paths: Iterable[str | os.PathLike], max_words: int = MAX_WORDS
) -> list[tuple[str, str]]:
    """The `catalog_pairs` of several ``.mo`` files, one pair per distinct message.

    A message translated in several catalogs keeps its first translation
    (catalogs in the order given), so no source has two targets. Catalogs
    that cannot be read (not ``.mo``, text not in their charset) are skipped
    with one warning naming them.

    Raises:
        ValueError: If no catalog gives a pair.
    """
    seen, pairs, unreadable = set(), [], []
    paths = list(paths)
    for path in paths:
        try:
            catalog = read_catalog(path)
        except (OSError, UnicodeDecodeError):
            unreadable.append(str(path))
            continue
        for source, target in catalog_pairs(catalog, max_words):
            if source not in seen:
                seen.add(source)
                pairs.append((source, target))
    if unreadable:
        logger.warning("skipped %d unreadable gettext catalogs: %s", len(unreadable), unreadable)
    if not pairs:
        raise ValueError(
            f"No short single-line pair in the gettext catalogs. Received paths={paths!r}."
        )
    return pairs
