import numpy as np
import pytest
import tensorflow as tf

from data.image_folder import decode_image_file, load_image_folder, warn_skipped
from data.pipeline import build_input_pipelines


def write_png(path, height, width, value):
    image = np.full((height, width, 3), value, np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(image).numpy())


def make_folder(root, counts, sizes=((30, 40), (50, 20))):
    for label, (name, count) in enumerate(counts.items()):
        for index in range(count):
            height, width = sizes[index % len(sizes)]
            write_png(root / name / f"{index}.png", height, width, value=40 * (label + 1))


def test_class_folders_become_resized_uint8_splits(tmp_path):
    make_folder(tmp_path, {"cat": 6, "dog": 4})
    folder = load_image_folder(tmp_path, image_size=(16, 16), test_fraction=0.2, seed=1)
    assert folder.class_names == ("cat", "dog")
    train, test = folder.splits["train"], folder.splits["test"]
    assert len(train) + len(test) == 10 and len(test) == 2
    assert train.images.shape[1:] == (16, 16, 3) and train.images.dtype == np.uint8
    # Pixel values survive the resize (solid colours), and labels follow the folder.
    for split in (train, test):
        np.testing.assert_array_equal(split.images[:, 0, 0, 0], 40 * (split.labels + 1))
    again = load_image_folder(tmp_path, image_size=(16, 16), test_fraction=0.2, seed=1)
    np.testing.assert_array_equal(again.splits["test"].labels, test.labels)


def test_bad_files_are_skipped_with_one_counting_warning(tmp_path):
    make_folder(tmp_path, {"a": 3, "b": 3})
    (tmp_path / "a" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (tmp_path / "b" / "notes.txt").write_text("hello")
    (tmp_path / "b" / "empty.png").write_bytes(b"")
    with pytest.warns(UserWarning, match="Skipped 3 file\\(s\\)") as record:
        folder = load_image_folder(tmp_path, image_size=(8, 8))
    assert len(record) == 1
    assert len(folder.skipped) == 3
    for name in ("broken.jpg", "notes.txt", "empty.png"):
        assert name in str(record[0].message)
    assert sum(len(s) for s in folder.splits.values()) == 6


def test_split_folders_and_grayscale(tmp_path):
    make_folder(tmp_path / "train", {"x": 4, "y": 4})
    make_folder(tmp_path / "validation", {"x": 1, "y": 1})
    make_folder(tmp_path / "test", {"x": 2, "y": 1})
    folder = load_image_folder(tmp_path, image_size=(10, 12), channels=1)
    assert set(folder.splits) == {"train", "validation", "test"}
    assert folder.splits["test"].images.shape == (3, 10, 12, 1)
    pipes = build_input_pipelines(folder.splits, batch_size=4)
    assert (pipes.train_size, pipes.validation_size, pipes.test_size) == (8, 2, 3)


def test_empty_class_folder_and_missing_images_are_errors(tmp_path):
    make_folder(tmp_path, {"full": 2})
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty holds no readable image"):
        load_image_folder(tmp_path)
    with pytest.raises(ValueError, match="has no class subfolders"):
        load_image_folder(tmp_path / "full")
    with pytest.raises(ValueError, match="does not exist"):
        load_image_folder(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="Received channels=4"):
        load_image_folder(tmp_path, channels=4)


def test_decode_image_file_tells_readable_from_unreadable(tmp_path):
    write_png(tmp_path / "ok.png", 5, 7, value=9)
    image = decode_image_file(tmp_path / "ok.png")
    assert image.shape == (5, 7, 3) and int(image[0, 0, 0]) == 9
    assert decode_image_file(tmp_path / "ok.png", channels=1).shape == (5, 7, 1)
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    assert decode_image_file(tmp_path / "bad.png") is None
    assert decode_image_file(tmp_path / "missing.png") is None


def test_skip_warning_names_five_files_and_counts_the_rest(tmp_path):
    with pytest.warns(UserWarning) as record:
        warn_skipped([f"f{i}.png" for i in range(7)], tmp_path)
    message = str(record[0].message)
    assert message.startswith(f"Skipped 7 file(s) in {tmp_path}")
    assert "f0.png, f1.png, f2.png, f3.png, f4.png and 2 more." in message
    assert "f5.png" not in message
