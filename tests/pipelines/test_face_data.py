"""The faces task's people: synthetic splits, a face folder, LFW pairs, and what cannot be split."""

import numpy as np
import pytest
from PIL import Image

from data.face_synth import synthetic_faces
from pipelines.config import TrainConfig
from pipelines.face_data import FOLDS, PAIRS_PER_FOLD, fit_split, load_faces, people_subset


def small_config(**options) -> TrainConfig:
    sizes = {"validation_people": 3, "test_people": 4}
    return TrainConfig(task="faces", **{**sizes, **options})


def test_synthetic_people_are_split_apart_with_lfw_shaped_pairs():
    data = load_faces(small_config(train_people=10, photos_per_person=3, image_size=24))
    assert data.name == "synthetic_faces"
    groups = [set(data.train.names), set(data.validation.names), set(data.test.names)]
    assert [len(group) for group in groups] == [10, 3, 4]
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    assert data.train.images.shape == (30, 24, 24, 3)
    for faces, pairs in ((data.test, data.test_pairs), (data.validation, data.validation_pairs)):
        assert len(pairs.same) == FOLDS * 2 * PAIRS_PER_FOLD and pairs.same.mean() == 0.5
        same_person = faces.labels[pairs.first] == faces.labels[pairs.second]
        np.testing.assert_array_equal(same_person, pairs.same)
        assert not np.any((pairs.first == pairs.second) & pairs.same)  # two different photos
    # the test people stay when the training seed moves
    again = load_faces(small_config(train_people=10, photos_per_person=3, image_size=24, seed=7))
    np.testing.assert_array_equal(again.test.images, data.test.images)


def test_fit_split_holds_out_photos_of_people_who_keep_one_to_train_on():
    faces = synthetic_faces(5, 4, size=16)
    one_photo = people_subset(faces, [0, 1])
    one_photo = type(faces)(one_photo.images[::4], one_photo.labels[::4], one_photo.names)
    fitted, held = fit_split(faces, 0.1, seed=0)
    assert len(held) == 5 and len(fitted) == 15  # one each, though 0.1 of 4 rounds to 0
    assert set(fitted.labels) == set(held.labels) == set(range(5))
    with pytest.raises(ValueError, match="validation_fraction=0.1 for 2 photos of 2 people"):
        fit_split(one_photo, 0.1, seed=0)


def write_lfw_folder(root, people=12, photos=3):
    """An LFW-layout folder: person_i/person_i_000k.png, mixed sizes, one grayscale photo."""
    faces = synthetic_faces(people, photos, seed=3, size=40)
    for row, (image, label) in enumerate(zip(faces.images, faces.labels, strict=True)):
        name = faces.names[label]
        (root / name).mkdir(parents=True, exist_ok=True)
        photo = Image.fromarray(image)
        if row % 5 == 0:
            photo = photo.resize((56, 56))
        if row == 1:
            photo = photo.convert("L")
        photo.save(root / name / f"{name}_{row % photos + 1:04d}.png")
    lonely = root / "zz_lonely"
    lonely.mkdir()
    Image.fromarray(faces.images[0]).save(lonely / "zz_lonely_0001.png")
    return faces.names


def test_a_face_folder_with_lfw_pairs_tests_on_the_pairs_people(tmp_path, capsys):
    names = write_lfw_folder(tmp_path / "lfw")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(
        "2\t2\n"
        f"{names[0]}\t1\t2\n{names[1]}\t2\t3\n"
        f"{names[0]}\t3\t{names[2]}\t1\n{names[1]}\t1\tzz_lonely\t1\n"
        f"{names[3]}\t1\t3\n{names[2]}\t1\t2\n"
        f"{names[3]}\t2\t{names[0]}\t2\n{names[2]}\t3\t{names[1]}\t1\n"
    )
    config = small_config(
        data_dir=str(tmp_path / "lfw"),
        pairs_file=str(pairs),
        validation_people=2,
        test_people=100,  # the default: the pairs name the test people
        image_size=20,
    )
    data = load_faces(config)
    assert "1 people of" in capsys.readouterr().out  # zz_lonely: one photo
    assert data.single_photo_people == ("zz_lonely",)
    assert set(data.test.names) == {*names[:4], "zz_lonely"}
    assert len(data.validation.names) == 2 and len(data.train.names) == 13 - 5 - 2
    assert not set(data.train.names) & set(data.test.names)
    assert data.test.images.shape[1:] == (20, 20, 3)  # grayscale and larger photos read alike
    pairs_read = data.test_pairs
    np.testing.assert_array_equal(pairs_read.same, [1, 1, 0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(pairs_read.folds, [0, 0, 0, 0, 1, 1, 1, 1])
    first = [data.test.names[label] for label in data.test.labels[pairs_read.first]]
    second = [data.test.names[label] for label in data.test.labels[pairs_read.second]]
    assert first[3] == names[1] and second[3] == "zz_lonely"
    np.testing.assert_array_equal(np.array(first) == np.array(second), pairs_read.same.astype(bool))


def test_a_folder_too_small_to_split_says_what_to_lower(tmp_path):
    write_lfw_folder(tmp_path / "few", people=5)
    config = small_config(data_dir=str(tmp_path / "few"), validation_people=2, test_people=3)
    with pytest.raises(ValueError, match="validation_people=2 and test_people=3 must come"):
        load_faces(config)
    data = load_faces(TrainConfig.from_params(config.as_params(), test_people=2, image_size=16))
    assert len(data.train.names) == 6 - 4  # the one-photo person trains
