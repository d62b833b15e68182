"""The samples figure marks exactly the wrong characters of what was read."""

import numpy as np

from data.ocr_text import TextImages
from pipelines.ocr_reading import CORRECT, WRONG, samples_figure


def _read_colours(figure):
    """``[(character, colour)]`` of each axes' read text, in order (the truth line left out)."""
    rows = []
    for axes in figure.axes:
        shown = [t for t in axes.texts if not t.get_text().startswith("true:")]
        rows.append([(t.get_text(), t.get_color()) for t in shown])
    return rows


def test_wrong_extra_and_missing_characters_are_red_the_rest_green():
    images = tuple(np.full((8, 20), 200, np.uint8) for _ in range(3))
    split = TextImages(images, ("AB12", "AB12", "AB12"))
    rows = _read_colours(samples_figure(split, ["AB12", "AX12", "AB1"]))
    assert rows[0] == [(c, CORRECT) for c in "AB12"]
    assert rows[1] == [("A", CORRECT), ("X", WRONG), ("1", CORRECT), ("2", CORRECT)]
    assert rows[2] == [("A", CORRECT), ("B", CORRECT), ("1", CORRECT), ("·", WRONG)]
    assert [t.get_text() for t in samples_figure(split, ["", "", ""]).axes[0].texts] == [
        "·",
        "true: AB12",
    ]
