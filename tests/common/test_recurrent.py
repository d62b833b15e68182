import re

import pytest

from common.recurrent import CELL_NAMES, GATED_CELL_NAMES, check_cell, parse_cells


def test_cell_names():
    assert CELL_NAMES == ("lstm", "gru", "simple_rnn")
    assert GATED_CELL_NAMES == ("lstm", "gru")
    for cell in CELL_NAMES:
        assert check_cell(cell) == cell


@pytest.mark.parametrize("bad", ["LSTM", "transformer", "", None])
def test_check_cell_lists_the_names(bad):
    with pytest.raises(ValueError) as info:
        check_cell(bad)
    assert str(info.value) == (
        "Invalid value for argument `cell`. Expected one of ['lstm', 'gru', 'simple_rnn']. "
        f"Received cell={bad!r}."
    )


def test_parse_cells_keeps_order_and_strips_spaces():
    assert parse_cells("simple_rnn, lstm ,gru") == ("simple_rnn", "lstm", "gru")
    assert parse_cells(["gru"]) == ("gru",)
    assert parse_cells(("lstm", " gru ")) == ("lstm", "gru")


@pytest.mark.parametrize("bad", ["", ",", "lstm,rnn", ("lstm", "cnn"), 3, None])
def test_parse_cells_rejects_unknown_or_missing_names(bad):
    with pytest.raises(ValueError, match=rf"`layers`.*Received layers={re.escape(repr(bad))}\.$"):
        parse_cells(bad, "layers")
