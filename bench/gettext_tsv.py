"""Writes real parallel text from the installed gettext catalogs as a source<TAB>target file.

Every ``.mo`` catalog under ``/usr/share/locale/<language>/LC_MESSAGES``
(apt, coreutils, bash, ...) maps English messages to their translation; the
short single-line pairs (at most ``--max-words`` words a side, one per
distinct message) of all but the ``--skip`` catalogs (by default the
``iso_*`` lists of language, country and script names, mostly left
untranslated) go to ``--output``, a file ``train -P dataset=...`` and
``bench/translation.py --tsv`` read (``bench/translation.py --gettext de``
writes and benches it in one go).

Usage: python bench/gettext_tsv.py --language de --output /tmp/en_de.tsv
    [--max-words 5] [--skip "iso_*"]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from baselines.translation import MAX_WORDS, gettext_pairs

LOCALE = Path("/usr/share/locale")
SKIP = "iso_*"


def write_gettext_tsv(
    language: str, output: Path, max_words: int = MAX_WORDS, skip: str = SKIP
) -> tuple[int, int]:
    """Writes the English -> ``language`` pairs of the system's catalogs to ``output``.

    Returns:
        ``(pairs written, catalogs read)``.

    Raises:
        FileNotFoundError: If no catalog of ``language`` is left after ``skip``.
    """
    folder = LOCALE / language / "LC_MESSAGES"
    catalogs = [path for path in sorted(folder.glob("*.mo")) if not path.match(skip)]
    if not catalogs:
        raise FileNotFoundError(
            f"No .mo catalog under {folder} (skipping {skip!r}). Received language={language!r}."
        )
    pairs = gettext_pairs(catalogs, max_words)
    Path(output).write_text("".join(f"{s}\t{t}\n" for s, t in pairs), encoding="utf-8")
    return len(pairs), len(catalogs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", default="de", help="a folder of /usr/share/locale")
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--max-words", type=int, default=MAX_WORDS)
    parser.add_argument("--skip", default=SKIP, help="glob of catalog names left out")
    args = parser.parse_args()
    pairs, catalogs = write_gettext_tsv(args.language, args.output, args.max_words, args.skip)
    print(f"{pairs} pairs from {catalogs} catalogs -> {args.output}")


if __name__ == "__main__":
    main()
