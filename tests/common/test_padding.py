import pytest

from common.padding import PADDING_MODES, parse_padding


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("valid", "valid"),
        ("SAME", "same"),
        ("  Valid\t", "valid"),
        (0, 0),
        (3, 3),
        ("1", 1),
        (" 12 ", 12),
    ],
)
def test_parse_padding_accepts_modes_and_integers(value, expected):
    parsed = parse_padding(value)
    assert parsed == expected
    assert type(parsed) is type(expected)


@pytest.mark.parametrize("parsed", ["valid", "same", 0, 2])
def test_parse_padding_is_idempotent(parsed):
    assert parse_padding(parse_padding(parsed)) == parsed


def test_parse_padding_accepts_numpy_integers():
    np = pytest.importorskip("numpy")
    parsed = parse_padding(np.int64(2))
    assert parsed == 2 and type(parsed) is int


@pytest.mark.parametrize("value", [-1, "-1", "full", "", "1.5", 1.0, True, None, (1, 1), "²"])
def test_parse_padding_rejects_with_standard_message(value):
    with pytest.raises(ValueError) as info:
        parse_padding(value)
    assert str(info.value) == (
        "Invalid value for argument `padding`. Expected 'valid', 'same' or an integer >= 0 "
        f"(zeros added on each side). Received padding={value!r}."
    )


def test_parse_padding_names_the_argument():
    with pytest.raises(ValueError, match=r"`paddings`.*Received paddings='x'"):
        parse_padding("x", name="paddings")


def test_padding_modes():
    assert PADDING_MODES == ("valid", "same")
