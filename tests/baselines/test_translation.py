import logging
import struct

import numpy as np
import pytest

from baselines.translation import catalog_pairs, copy_source, gettext_pairs, read_catalog

HEADER = "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n != 1);\n"


def write_mo(path, messages):
    """A compiled gettext catalog (GNU .mo, little-endian) of ``{msgid: msgstr}``."""
    keys = sorted(messages)
    ids = [key.encode() for key in keys]
    strs = [messages[key].encode() for key in keys]
    count = len(keys)
    start = 28 + 16 * count  # header, then the two tables of (length, offset)
    table, blob = [], b""
    for text in ids + strs:
        table.append((len(text), start + len(blob)))
        blob += text + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, count, 28, 28 + 8 * count, 0, 0)
    path.write_bytes(header + b"".join(struct.pack("<2I", *entry) for entry in table) + blob)
    return path


def test_copy_source_predicts_each_source_as_its_translation():
    sources = np.array(["1 9 8 4", "open the file"], dtype=object)
    assert copy_source(sources) == ["1 9 8 4", "open the file"]
    assert copy_source([]) == []


def test_catalog_pairs_keep_short_single_line_translated_messages():
    catalog = {
        "": HEADER,
        ("file", 0): "Datei",
        ("file", 1): "Dateien",
        "menu\x04Quit": "Beenden",
        "  Open file ": " Datei öffnen ",
        "Untranslated": "",
        "two\nlines": "zwei\nZeilen",
        "a\ttab": "ein\tTab",
        "one two three four five six": "eins zwei drei vier fünf sechs",
        "one two three four five": "eins zwei drei vier fünf",
        "Cancel": "Abbrechen",
    }
    assert catalog_pairs(catalog) == [
        ("Open file", "Datei öffnen"),
        ("one two three four five", "eins zwei drei vier fünf"),
        ("Cancel", "Abbrechen"),
    ]
    assert catalog_pairs(catalog, max_words=2) == [
        ("Open file", "Datei öffnen"),
        ("Cancel", "Abbrechen"),
    ]
    with pytest.raises(ValueError, match="max_words=0"):
        catalog_pairs(catalog, max_words=0)


def test_a_compiled_catalog_reads_back_and_its_pairs_are_filtered(tmp_path):
    messages = {
        "": HEADER,
        "file\0files": "Datei\0Dateien",
        "menu\x04Quit": "Beenden",
        "Open file": "Datei öffnen",
        "Cancel": "Abbrechen",
    }
    path = write_mo(tmp_path / "app.mo", messages)
    catalog = read_catalog(path)
    assert catalog[("file", 1)] == "Dateien"
    assert catalog["Open file"] == "Datei öffnen"
    assert gettext_pairs([path]) == [("Cancel", "Abbrechen"), ("Open file", "Datei öffnen")]


def test_gettext_pairs_keep_the_first_translation_and_skip_unreadable_catalogs(tmp_path, caplog):
    first = write_mo(tmp_path / "first.mo", {"": HEADER, "Quit": "Beenden", "Yes": "Ja"})
    second = write_mo(tmp_path / "second.mo", {"": HEADER, "Quit": "Verlassen", "No": "Nein"})
    broken = tmp_path / "broken.mo"
    broken.write_bytes(b"not a catalog at all, no magic number here")
    with caplog.at_level(logging.WARNING, logger="baselines.translation"):
        pairs = gettext_pairs([first, broken, second])
    assert pairs == [("Quit", "Beenden"), ("Yes", "Ja"), ("No", "Nein")]
    assert "broken.mo" in caplog.text
    with pytest.raises(ValueError, match="broken.mo"):
        gettext_pairs([broken])
    with pytest.raises(FileNotFoundError, match="missing.mo"):
        read_catalog(tmp_path / "missing.mo")
