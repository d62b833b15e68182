"""Face folders in LFW's layout and LFW's pairs.txt protocol."""

import numpy as np
import pytest
from PIL import Image

from data.face_folders import pair_rows, read_face_folder, read_lfw_pairs


def _lfw_folder(root, people):
    """``people``: name -> photo count; photos differ in size, one is grayscale."""
    for p, (name, count) in enumerate(people.items()):
        (root / name).mkdir(parents=True)
        for i in range(1, count + 1):
            size = (40 + 5 * i, 50)
            pixels = np.full((size[1], size[0], 3), 20 * p + i, np.uint8)
            image = Image.fromarray(pixels)
            if i == 2:
                image = image.convert("L")
            image.save(root / name / f"{name}_{i:04d}.jpg")


def test_a_face_folder_reads_every_photo_rgb_at_one_size_and_skips_the_rest(tmp_path):
    _lfw_folder(tmp_path, {"Ann_Lee": 3, "Bo_Chan": 1, "Cy_Diaz": 2})
    (tmp_path / "Bo_Chan" / "notes.txt").write_text("not a photo")
    (tmp_path / "Empty").mkdir()
    with pytest.warns(UserWarning, match=r"Skipped 1 file.*notes\.txt"):
        folder = read_face_folder(tmp_path, image_size=(32, 32))
    faces = folder.faces
    assert faces.images.shape == (6, 32, 32, 3) and faces.names == ("Ann_Lee", "Bo_Chan", "Cy_Diaz")
    np.testing.assert_array_equal(faces.labels, [0, 0, 0, 1, 2, 2])
    assert folder.files[1] == "Ann_Lee/Ann_Lee_0002.jpg"
    grey = faces.images[1]
    assert np.all(grey[..., 0] == grey[..., 1]) and abs(int(grey[16, 16, 0]) - 2) <= 2
    assert folder.photo_counts() == {"Ann_Lee": 3, "Bo_Chan": 1, "Cy_Diaz": 2}
    with pytest.raises(ValueError, match="no person folder with a readable image"):
        read_face_folder(tmp_path / "Empty")
    with pytest.raises(ValueError, match="does not exist"):
        read_face_folder(tmp_path / "nowhere")


def test_pairs_txt_gives_folds_of_matched_then_mismatched_pairs_and_their_rows(tmp_path):
    _lfw_folder(tmp_path / "lfw", {"Ann_Lee": 3, "Bo_Chan": 1, "Cy_Diaz": 2})
    lines = ["2\t2", "Ann_Lee\t1\t2", "Cy_Diaz\t1\t2", "Ann_Lee\t1\tBo_Chan\t1",
             "Bo_Chan\t1\tCy_Diaz\t2", "Ann_Lee\t2\t3", "Ann_Lee\t1\t3",
             "Cy_Diaz 1 Ann_Lee 3", "Bo_Chan\t1\tAnn_Lee\t2"]  # fmt: skip
    (tmp_path / "pairs.txt").write_text("\n".join(lines) + "\n")
    pairs = read_lfw_pairs(tmp_path / "pairs.txt")
    assert (
        len(pairs) == 8 and pairs.first[2] == ("Ann_Lee", 1) and pairs.second[3] == ("Cy_Diaz", 2)
    )
    np.testing.assert_array_equal(pairs.same, [1, 1, 0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(pairs.folds, [0, 0, 0, 0, 1, 1, 1, 1])
    folder = read_face_folder(tmp_path / "lfw", image_size=(16, 16))
    first, second = pair_rows(folder, pairs)
    np.testing.assert_array_equal(first, [0, 4, 0, 3, 1, 0, 4, 3])
    np.testing.assert_array_equal(second, [1, 5, 3, 5, 2, 2, 2, 1])
    (tmp_path / "dev.txt").write_text("1\nAnn_Lee 1 9\nBo_Chan 1 Cy_Diaz 1\n")
    with pytest.raises(ValueError, match=r"photo 9 of 'Ann_Lee'.*Ann_Lee/Ann_Lee_0009"):
        pair_rows(folder, read_lfw_pairs(tmp_path / "dev.txt"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("10 0\n", "at least 1 fold and 1 pair"),
        ("ten\n", "header"),
        ("1 1\nAnn 1 2\n", "header says 1 fold.*2 lines.*1 pair lines"),
        ("1\nAnn 1 Bo 2\nAnn 1 2\n", r"line 2: 'Ann 1 Bo 2' is not 'name i j'"),
        ("1\nAnn 1 2\nAnn 1 2\n", r"line 3: .* is not 'name i name j'"),
    ],
)
def test_a_bad_pairs_file_is_named_by_line(tmp_path, text, message):
    (tmp_path / "pairs.txt").write_text(text)
    with pytest.raises(ValueError, match=message):
        read_lfw_pairs(tmp_path / "pairs.txt")


def test_a_binary_pairs_file_and_a_bad_size_are_named(tmp_path):
    (tmp_path / "pairs.txt").write_bytes(bytes(range(128, 256)))
    with pytest.raises(ValueError, match="is not text"):
        read_lfw_pairs(tmp_path / "pairs.txt")
    with pytest.raises(ValueError, match=r"image_size=\(64,\)"):
        read_face_folder(tmp_path, image_size=(64,))
