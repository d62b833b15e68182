import shutil
from pathlib import Path

import pytest

from data.ocr_fonts import DEBIAN_FONT_PACKAGES, NOT_TEXT_FONTS, find_fonts, font_covers


def test_installed_fonts_are_sorted_unique_text_fonts():
    fonts = find_fonts("AB12 CDE")
    names = [Path(font).name for font in fonts]
    assert names == sorted(names) and len(set(names)) == len(names)
    assert all(Path(font).is_file() for font in fonts)
    assert not any(NOT_TEXT_FONTS.search(name) for name in names)
    # matplotlib alone ships more than a held-out-fonts split needs.
    assert len(fonts) >= 10


def test_the_os_copy_of_a_font_wins_over_matplotlibs(tmp_path):
    source = find_fonts()[0]
    os_copy = tmp_path / "os" / Path(source).name
    os_copy.parent.mkdir()
    shutil.copy(source, os_copy)
    fonts = find_fonts(directories=[tmp_path / "os"])
    assert str(os_copy) in fonts
    assert sum(Path(font).name == os_copy.name for font in fonts) == 1


def test_fonts_are_filtered_by_the_characters_they_draw():
    font = find_fonts()[0]
    assert font_covers(font, "AB12")
    private_use = "\U0010fffd"  # no font draws it
    assert not font_covers(font, "AB" + private_use)
    with pytest.raises(FileNotFoundError, match="with glyphs for"):
        find_fonts("A" + private_use)


def test_no_font_names_what_to_install(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        find_fonts(directories=[tmp_path], include_matplotlib=False)
    message = str(error.value)
    assert str(tmp_path) in message
    assert all(package in message for package in DEBIAN_FONT_PACKAGES)
    assert "pip install matplotlib" in message
