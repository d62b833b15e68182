"""Parallel text: tab-separated files (Tatoeba/Anki format) and the generated number-words task.

The generated task needs real sequence-to-sequence learning offline: the
digits of an integer, space-separated (``"1 9 8 4"``), map to its English
words (``"one thousand nine hundred eighty four"``). Source and target
lengths differ and the alignment is not monotone word by word, and the
test numbers are never seen in training.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from common.validation import check_positive_int
from data.splits_types import ParallelSplit

logger = logging.getLogger(__name__)

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(number: int) -> str:
    """English words of an integer in ``[0, 999_999]``, without "and" or hyphens.

    Example:
        >>> number_words(1984)
        'one thousand nine hundred eighty four'

    Raises:
        ValueError: Outside the range.
    """
    if isinstance(number, bool) or not isinstance(number, (int, np.integer)):
        raise ValueError(f"Expected an integer in [0, 999999]. Received number={number!r}.")
    if not 0 <= number <= 999_999:
        raise ValueError(f"Expected an integer in [0, 999999]. Received number={number!r}.")
    if number < 20:
        return _ONES[number]
    thousands, rest = divmod(int(number), 1000)
    words = []
    if thousands:
        words += [_below_thousand(thousands), "thousand"]
    if rest:
        words.append(_below_thousand(rest))
    return " ".join(words)


def _below_thousand(number: int) -> str:
    hundreds, rest = divmod(number, 100)
    words = [_ONES[hundreds], "hundred"] if hundreds else []
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS[tens])
        if ones:
            words.append(_ONES[ones])
    elif rest:
        words.append(_ONES[rest])
    return " ".join(words)


def number_words_task(count: int = 12_000, maximum: int = 99_999, seed: int = 0) -> ParallelSplit:
    """Distinct random integers in ``[0, maximum]`` as digit strings and their words.

    Args:
        count: How many distinct numbers.
        maximum: Largest number drawn (at most 999,999).
        seed: Seed of the draw.

    Returns:
        A `ParallelSplit`: sources like ``"1 9 8 4"``, targets like
        ``"one thousand nine hundred eighty four"``. Any split of it by
        position keeps the numbers of each part disjoint.

    Raises:
        ValueError: If ``count`` exceeds the numbers available.
    """
    check_positive_int("count", count)
    if not 0 < maximum <= 999_999 or count > maximum + 1:
        raise ValueError(
            f"Cannot draw count={count} distinct numbers from [0, {maximum}] "
            "(maximum is at most 999999)."
        )
    numbers = np.random.default_rng(seed).choice(maximum + 1, size=count, replace=False)
    sources = np.array([" ".join(str(n)) for n in numbers], dtype=object)
    targets = np.array([number_words(int(n)) for n in numbers], dtype=object)
    return ParallelSplit(sources, targets)


def read_parallel_tsv(path: str | os.PathLike) -> ParallelSplit:
    """Reads ``source<TAB>target[<TAB>more]`` lines (the Tatoeba/Anki files keras-io uses).

    Blank lines are ignored; lines without a tab, or with an empty side, are
    skipped with one warning that counts them. Columns after the second
    (Anki's attribution) are ignored.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If no line holds a pair.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Parallel text file {str(path)!r} does not exist.")
    sources, targets, malformed = [], [], 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
                malformed += 1
                continue
            sources.append(fields[0].strip())
            targets.append(fields[1].strip())
    if malformed:
        logger.warning("%s: skipped %d lines without a source<TAB>target pair", path, malformed)
    if not sources:
        raise ValueError(f"{path} has no source<TAB>target line.")
    return ParallelSplit(np.array(sources, dtype=object), np.array(targets, dtype=object))
