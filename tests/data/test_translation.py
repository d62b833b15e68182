import logging

import pytest

from data.translation import number_words, number_words_task, read_parallel_tsv


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (40, "forty"),
        (101, "one hundred one"),
        (1984, "one thousand nine hundred eighty four"),
        (20000, "twenty thousand"),
        (999999, "nine hundred ninety nine thousand nine hundred ninety nine"),
    ],
)
def test_number_words(number, words):
    assert number_words(number) == words


@pytest.mark.parametrize("number", [-1, 1_000_000, 2.5, True])
def test_number_words_range(number):
    with pytest.raises(ValueError, match="Expected an integer in \\[0, 999999\\]"):
        number_words(number)


def test_generated_task_has_distinct_numbers_and_aligned_words():
    task = number_words_task(count=500, maximum=9999, seed=3)
    assert len(task) == 500 and len(set(task.sources)) == 500
    source, target = task.sources[0], task.targets[0]
    assert target == number_words(int(source.replace(" ", "")))
    assert number_words_task(count=500, maximum=9999, seed=3).sources.tolist() == (
        task.sources.tolist()
    )
    with pytest.raises(ValueError, match="count=11 distinct numbers from \\[0, 9\\]"):
        number_words_task(count=11, maximum=9)


def test_tsv_skips_blank_and_malformed_lines_with_one_warning(tmp_path, caplog):
    path = tmp_path / "fra.txt"
    path.write_text(
        "Go.\tVa !\tCC-BY 2.0 (France)\n\nno tab here\nHi.\t\nRun!\tCours !\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        pairs = read_parallel_tsv(path)
    assert pairs.sources.tolist() == ["Go.", "Run!"]
    assert pairs.targets.tolist() == ["Va !", "Cours !"]
    assert "skipped 2 lines" in caplog.text


def test_tsv_without_pairs_is_an_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n\nonly one column\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no source<TAB>target line"):
        read_parallel_tsv(path)
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        read_parallel_tsv(tmp_path / "missing.txt")
