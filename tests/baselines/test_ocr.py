"""The Tesseract baseline reads clean rendered plates, one text per image, in order."""

import numpy as np
import pytest

from baselines import ocr
from baselines.ocr import tesseract_read
from data.ocr_fonts import find_fonts
from data.ocr_render import random_plates, render_text
from pipelines.metrics import text_recognition_scores

needs_tesseract = pytest.mark.skipif(
    not ocr.tesseract_available(),
    reason="Tesseract is not installed (make data installs it as root: tesseract-ocr)",
)


@needs_tesseract
def test_tesseract_reads_clean_plates_in_order():
    font = next(path for path in find_fonts() if path.endswith("DejaVuSans.ttf"))
    texts = random_plates(12, np.random.default_rng(0))
    images = [render_text(text, font, height=32) for text in texts]
    read = tesseract_read(images)
    assert len(read) == len(texts)
    assert text_recognition_scores(read, texts)["cer"] < 0.15  # clean text: Tesseract's home
    # one blank image among them keeps every other answer in its place
    blank = np.full((32, 80), 255, np.uint8)
    with_blank = tesseract_read([images[0], blank, images[1]])
    assert with_blank[1] == "" and with_blank[0] == read[0] and with_blank[2] == read[1]
    assert tesseract_read([]) == []


def test_a_missing_tesseract_names_the_install(monkeypatch):
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match="apt-get install tesseract-ocr"):
        tesseract_read([np.zeros((32, 32), np.uint8)])
    with pytest.raises(ValueError, match="scale=0"):
        tesseract_read([np.zeros((32, 32), np.uint8)], scale=0)
