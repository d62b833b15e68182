import bz2
import logging

import numpy as np
import pytest

from data.text import read_text_table, text_key


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_labels_are_sorted_class_names(tmp_path):
    path = write(
        tmp_path / "reviews.csv", 'text,label\n"great, loved it",pos\nawful,neg\nfine,pos\n'
    )
    examples, names = read_text_table(path)
    assert names == ("neg", "pos")
    assert examples.texts.tolist() == ["great, loved it", "awful", "fine"]
    assert examples.labels.tolist() == [1, 0, 1]


def test_tsv_and_bz2_with_other_column_names(tmp_path):
    path = tmp_path / "reviews.tsv.bz2"
    with bz2.open(path, "wt", encoding="utf-8") as handle:
        handle.write("sentence\tstars\nnice one\t5\nbad\t1\nok\t3\n")
    examples, names = read_text_table(
        path, "sentence", "stars", delimiter="\t", class_names=("1", "5")
    )
    assert names == ("1", "5")
    assert examples.texts.tolist() == ["nice one", "bad"]
    assert examples.labels.tolist() == [1, 0]


def test_empty_texts_are_skipped_with_one_warning(tmp_path, caplog):
    path = write(tmp_path / "r.csv", "text,label\n,pos\n   ,neg\ngood,pos\nbad,neg\n")
    with caplog.at_level(logging.WARNING):
        examples, _ = read_text_table(path)
    assert len(examples) == 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "skipped 2 rows" in warnings[0].getMessage()


def test_only_empty_texts_is_an_error(tmp_path):
    path = write(tmp_path / "r.csv", "text,label\n,pos\n ,neg\n")
    with pytest.raises(ValueError, match="no row with both a non-empty 'text' and label"):
        read_text_table(path)


def test_a_label_column_with_one_class_is_an_error(tmp_path):
    path = write(tmp_path / "r.csv", "text,label\ngood,pos\nnice,pos\n")
    with pytest.raises(ValueError, match=r"'label' .* has only one class \(\['pos'\]\)"):
        read_text_table(path)


def test_a_missing_column_lists_the_header(tmp_path):
    path = write(tmp_path / "r.csv", "review,sentiment\ngood,pos\n")
    with pytest.raises(ValueError, match=r"no column 'text', 'label'; its header is \['review'"):
        read_text_table(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_text_table(tmp_path / "nope.csv")


def test_labels_are_int64(tmp_path):
    path = write(tmp_path / "r.csv", "text,label\na,0\nb,1\n")
    examples, names = read_text_table(path)
    assert names == ("0", "1") and examples.labels.dtype == np.int64


def test_repeated_texts_are_left_out_so_no_text_can_be_in_two_splits(tmp_path, caplog):
    path = write(
        tmp_path / "r.csv",
        "text,label\ngood,pos\nbad,neg\ngood,pos\nfine,pos\nbad,pos\ngood,neg\nmeh,neg\n",
    )
    with caplog.at_level(logging.INFO):
        examples, names = read_text_table(path)
    # The first row of each text wins, also against a later row with another label.
    assert examples.texts.tolist() == ["good", "bad", "fine", "meh"]
    assert examples.labels.tolist() == [1, 0, 1, 0] and names == ("neg", "pos")
    messages = [r.getMessage() for r in caplog.records if "repeating" in r.getMessage()]
    assert len(messages) == 1 and "left out 3 rows" in messages[0]
    assert "(2 with another label)" in messages[0]


def test_texts_equal_up_to_case_punctuation_and_spacing_are_one_text(tmp_path):
    path = write(
        tmp_path / "r.csv",
        'text,label\n"A fine, fine film.",pos\na fine fine  film,neg\n"A FINE fine film!",pos\n'
        "a fine film,neg\n",
    )
    examples, _ = read_text_table(path)
    assert examples.texts.tolist() == ["A fine, fine film.", "a fine film"]
    assert examples.labels.tolist() == [1, 0]
    assert text_key("  Don't -- STOP!\tnow ") == "dont stop now"
