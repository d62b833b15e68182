"""Synthetic faces: seeded people whose photos vary, and who differ from each other."""

import numpy as np
import pytest

from data.face_synth import random_identity, render_face, synthetic_face_splits, synthetic_faces


def test_faces_are_seeded_rgb_photos_of_each_person_in_turn():
    faces = synthetic_faces(3, 4, seed=1, size=48, first_id=7)
    assert faces.images.shape == (12, 48, 48, 3) and faces.images.dtype == np.uint8
    np.testing.assert_array_equal(faces.labels, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    assert faces.names == ("person_00007", "person_00008", "person_00009") and len(faces) == 12
    np.testing.assert_array_equal(synthetic_faces(3, 4, seed=1, size=48).images, faces.images)
    assert not np.array_equal(synthetic_faces(3, 4, seed=2, size=48).images, faces.images)


def test_photos_of_one_person_vary_but_are_closer_than_photos_of_others():
    faces = synthetic_faces(12, 6, seed=0, size=32)
    # the face is the middle of the photo; the background and light vary
    centre = faces.images[:, 8:24, 8:24].reshape(72, -1).astype(np.float32)
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    similarity = centre @ centre.T
    same = faces.labels[:, None] == faces.labels[None, :]
    off_diagonal = ~np.eye(72, dtype=bool)
    assert similarity[same & off_diagonal].mean() > similarity[~same].mean() + 0.02
    assert similarity[same & off_diagonal].max() < 0.9999  # no two photos alike


def test_people_differ_in_skin_and_some_wear_glasses_and_the_size_is_checked():
    rng = np.random.default_rng(0)
    people = [random_identity(rng) for _ in range(200)]
    assert len({p.skin for p in people}) == 200 and 20 < sum(p.glasses for p in people) < 80
    with pytest.raises(ValueError, match="size=0"):
        render_face(people[0], rng, size=0)


def test_splits_hold_different_people(monkeypatch):
    from data import face_synth

    drawn = []

    def recorded(rng):
        drawn.append(random_identity(rng))
        return drawn[-1]

    monkeypatch.setattr(face_synth, "random_identity", recorded)
    splits = synthetic_face_splits({"train": 5, "test": 3}, 2, seed=4, size=24)
    assert splits["train"].names[-1] == "person_00004" and splits["test"].names[0] == "person_00005"
    assert splits["test"].images.shape == (6, 24, 24, 3) and len(drawn) == 8
    assert not set(drawn[:5]) & set(drawn[5:])  # no person in both splits
    again = synthetic_face_splits({"train": 5, "test": 3}, 2, seed=4, size=24)
    np.testing.assert_array_equal(again["test"].images, splits["test"].images)
