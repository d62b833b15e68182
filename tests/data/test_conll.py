import logging

import pytest

from data.conll import read_conll


def test_sentences_split_on_blank_and_whitespace_only_lines(tmp_path):
    path = tmp_path / "ner.txt"
    path.write_text(
        "-DOCSTART- -X- O O\n\nEU B-ORG\nrejects O\n\t\nPeter\tB-PER\nBlackburn\tI-PER\n",
        encoding="utf-8",
    )
    sentences = read_conll(path)
    assert sentences.tokens == (("EU", "rejects"), ("Peter", "Blackburn"))
    assert sentences.tags == (("B-ORG", "O"), ("B-PER", "I-PER"))


def test_conll2003_columns_take_the_last_as_tag(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("EU NNP B-NP B-ORG\nrejects VBZ B-VP O\n", encoding="utf-8")
    assert read_conll(path).tags == (("B-ORG", "O"),)


def test_lines_without_a_tag_are_skipped_with_one_warning(tmp_path, caplog):
    path = tmp_path / "bad.txt"
    path.write_text("EU B-ORG\nlonely\nrejects O\nalone\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        sentences = read_conll(path)
    assert sentences.tokens == (("EU", "rejects"),)
    assert "skipped 2 lines" in caplog.text


def test_a_file_without_sentences_is_an_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no tagged sentence"):
        read_conll(path)
