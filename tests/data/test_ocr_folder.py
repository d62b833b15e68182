import numpy as np
import pytest
from PIL import Image

from data.ocr_folder import read_labels_file, read_named_images


def write_image(path, height, width, value=90, mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, (width, height), value if mode == "L" else (value, value, value)).save(path)


def test_labels_file_lists_images_and_their_texts(tmp_path):
    write_image(tmp_path / "a.png", 64, 256, value=10)
    write_image(tmp_path / "lines" / "b.jpg", 20, 30, value=200, mode="RGB")
    (tmp_path / "labels.tsv").write_text(
        "a.png\tInvoice 42, due\n\nlines/b.jpg\tx\ty\n", encoding="utf-8"
    )
    data = read_labels_file(tmp_path / "labels.tsv", height=32)
    assert data.texts == ("Invoice 42, due", "x\ty")  # only the first tab separates
    assert [image.shape for image in data.images] == [(32, 128), (32, 48)]  # aspect kept
    assert all(image.dtype == np.uint8 and image.ndim == 2 for image in data.images)
    assert int(data.images[0].mean()) == 10 and abs(int(data.images[1].mean()) - 200) <= 2


@pytest.mark.parametrize("line", ["c.png", "c.png\t", "\tno image"])
def test_malformed_line_is_named(tmp_path, line):
    write_image(tmp_path / "a.png", 10, 10)
    (tmp_path / "labels.tsv").write_text(f"a.png\tok\n\n{line}\n")
    with pytest.raises(ValueError, match="labels.tsv, line 3: expected 'image<TAB>text'"):
        read_labels_file(tmp_path / "labels.tsv")


def test_missing_image_is_named_with_its_line(tmp_path):
    write_image(tmp_path / "a.png", 10, 10)
    (tmp_path / "labels.tsv").write_text("a.png\tok\nmissing.png\tgone\n")
    with pytest.raises(ValueError, match=r"line 2: image 'missing.png' not found"):
        read_labels_file(tmp_path / "labels.tsv")


def test_undecodable_image_is_skipped_with_one_warning(tmp_path):
    write_image(tmp_path / "a.png", 10, 20)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "labels.tsv").write_text("broken.png\tlost\na.png\tkept\n")
    with pytest.warns(UserWarning, match=r"Skipped 1 file\(s\) in .*: broken.png\.") as caught:
        data = read_labels_file(tmp_path / "labels.tsv", height=8)
    assert len(caught) == 1 and caught[0].filename == __file__
    assert data.texts == ("kept",) and data.images[0].shape == (8, 16)


def test_missing_labels_file_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_labels_file(tmp_path / "labels.tsv")


def test_captcha_folder_file_names_are_the_texts(tmp_path):
    for name in ("2b827.png", "ae8cx.jpg", "3p4nn.png"):
        write_image(tmp_path / name, 50, 200, mode="RGB")
    (tmp_path / "README.txt").write_text("captchas")
    (tmp_path / "bad.png").write_bytes(b"")
    with pytest.warns(UserWarning, match=r"Skipped 2 file\(s\).*README.txt, bad.png"):
        data = read_named_images(tmp_path, height=32)
    assert data.texts == ("2b827", "3p4nn", "ae8cx")  # sorted by file name
    assert all(image.shape == (32, 128) for image in data.images)
    assert data.fonts == ()


def test_folder_without_images_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"No readable image .* \(1 file\(s\) skipped"):
        read_named_images(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        read_named_images(tmp_path / "nowhere")
