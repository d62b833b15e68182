"""``convseq faces enroll`` and ``identify``: a gallery written whole, probes named or unknown."""

import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from data.face_synth import synthetic_faces
from pipelines.cli import main
from pipelines.config import TrainConfig
from pipelines.face_run import GALLERY_FILE, FacesConfig, enroll, identify
from pipelines.train import train


@pytest.fixture
def faces_run(mlflow_store, tmp_path):
    config = TrainConfig(
        task="faces",
        train_people=20,
        validation_people=4,
        test_people=4,
        photos_per_person=3,
        epochs=1,
        export_dir=str(tmp_path / "exports"),
    )
    return train(config)


def write_people(root, faces, rows):
    for row in rows:
        name = faces.names[faces.labels[row]]
        (root / name).mkdir(parents=True, exist_ok=True)
        Image.fromarray(faces.images[row]).save(root / name / f"{name}_{row:04d}.png")


def test_enrolled_people_are_found_by_their_own_photos_and_strangers_by_threshold(
    faces_run, tmp_path, capsys
):
    faces = synthetic_faces(4, 2, seed=11, size=48)
    write_people(tmp_path / "people", faces, [0, 2, 3, 4])  # person_00001 with two photos
    enrolled = tmp_path / "gallery"
    config = FacesConfig(
        action="enroll",
        run_id=faces_run.run_id,
        gallery=str(tmp_path / "people"),
        enrolled=str(enrolled),
    )
    folder, people = enroll(config)
    assert people == 3 and folder == enrolled
    facts = json.loads((enrolled / GALLERY_FILE).read_text())
    assert facts["image_size"] == 32 and facts["people"] == 3 and not facts["align"]
    assert (enrolled / "people.csv").read_text().splitlines()[1:] == [
        "0,person_00000,1",
        "1,person_00001,2",
        "2,person_00002,1",
    ]

    probes = tmp_path / "probes"
    probes.mkdir()
    for row in (0, 4, 6):  # person_00000 and person_00002 as enrolled, person_00003 never
        Image.fromarray(faces.images[row]).save(probes / f"probe_{row}.png")
    (probes / "notes.png").write_text("not an image")
    output = tmp_path / "who.jsonl"
    assert (
        main(
            [
                "faces",
                "identify",
                "--images",
                str(probes),
                "--enrolled",
                str(enrolled),
                "--output",
                str(output),
                "--threshold",
                "0.9999",
            ]
        )
        == 0
    )
    assert "known: 2" in capsys.readouterr().out
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [row["image"].rsplit("/", 1)[-1] for row in rows] == [
        "probe_0.png",
        "probe_4.png",
        "probe_6.png",
    ]
    # an enrolled single photo is its person's vector: cosine 1 with itself
    assert [row["person"] for row in rows[:2]] == ["person_00000", "person_00002"]
    assert rows[0]["score"] == pytest.approx(1.0, abs=1e-4) and rows[0]["known"]
    assert rows[2]["score"] < 0.9999 and rows[2] == {**rows[2], "person": "", "known": False}

    # the run's threshold by default: what the embed model and the gallery say
    everyone = FacesConfig(
        action="identify", images=str(probes), enrolled=str(enrolled), output=str(output)
    )
    _, known, unknown = identify(everyone)
    embed = tf.saved_model.load(str(enrolled / "embed"))
    vector = embed.serve(tf.constant(faces.images[[6]]))["embedding"].numpy()[0]
    answers = [json.loads(line) for line in output.read_text().splitlines()]
    assert known + unknown == 3
    assert answers[2]["known"] == (answers[2]["score"] > facts["threshold"])
    resized = tf.image.resize(faces.images[[6]], (32, 32), antialias=True)
    again = embed.serve(tf.cast(tf.round(resized), tf.uint8))["embedding"].numpy()[0]
    assert float(vector @ again) > 0.99  # served photos are resized inside, as enrolled


def test_enroll_and_identify_refuse_what_they_cannot_use(faces_run, tmp_path, mlflow_store):
    with pytest.raises(ValueError, match="needs --gallery"):
        FacesConfig(action="enroll", run_id=faces_run.run_id)
    with pytest.raises(ValueError, match="action"):
        FacesConfig(action="forget")
    with pytest.raises(ValueError, match=r"threshold=1.5"):
        FacesConfig(action="identify", images="x", threshold=1.5)
    with pytest.raises(FileNotFoundError, match="run convseq faces enroll"):
        identify(FacesConfig(action="identify", images="x", enrolled=str(tmp_path / "none")))
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "mine.txt").write_text("precious")
    write_people(tmp_path / "people", synthetic_faces(1, 1, size=32), [0])
    with pytest.raises(ValueError, match="is not an enrolled gallery"):
        enroll(
            FacesConfig(
                action="enroll",
                run_id=faces_run.run_id,
                gallery=str(tmp_path / "people"),
                enrolled=str(keep),
            )
        )
    assert (keep / "mine.txt").read_text() == "precious"
    search_like = TrainConfig(
        task="classify",
        dataset="digits",
        epochs=1,
        max_examples=200,
        export_dir=str(tmp_path / "exports"),
    )
    other = train(search_like)
    with pytest.raises(ValueError, match="task=classify run; faces enroll and identify need"):
        enroll(FacesConfig(action="enroll", run_id=other.run_id, gallery=str(tmp_path / "people")))
    assert np.isfinite(faces_run.test_metrics["test_roc_auc"])


def test_probes_read_aligned_say_which_photos_show_no_face(tmp_path):
    from skimage import data as photos

    from pipelines.face_run import _probe_faces

    Image.fromarray(photos.astronaut()).save(tmp_path / "astronaut.png")
    Image.fromarray(np.full((120, 120, 3), 200, np.uint8)).save(tmp_path / "wall.png")
    faces, found = _probe_faces([tmp_path / "astronaut.png", tmp_path / "wall.png"], 40, True)
    assert found == [True, False] and faces.shape == (1, 40, 40, 3)
    skin = faces[0, 16:24, 14:26].mean(axis=(0, 1))  # between the eyes and the mouth
    assert skin[0] > skin[2] + 20  # reddish skin, not the white suit or the dark background
