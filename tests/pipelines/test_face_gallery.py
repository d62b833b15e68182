"""Enrolling people and identifying probes against them."""

import numpy as np
import pytest

from pipelines.face_gallery import (
    UNKNOWN,
    enrol,
    identify,
    person_vectors,
    rank1_identification,
)


def _people(count=20, photos=4, spread=0.35, seed=0, dimension=16):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(count, dimension))
    labels = np.repeat(np.arange(count), photos)
    vectors = centres[labels] + spread * rng.normal(size=(len(labels), dimension))
    return vectors.astype(np.float32), labels


def test_a_person_is_the_unit_mean_of_their_unit_vectors():
    vectors = np.array([[2.0, 0.0], [0.0, 5.0], [0.0, -1.0]], np.float32)
    np.testing.assert_allclose(
        person_vectors(vectors, [0, 0, 1], 2), [[0.5**0.5, 0.5**0.5], [0.0, -1.0]], rtol=1e-6
    )
    with pytest.raises(ValueError, match=r"none of \[1\]"):
        person_vectors(vectors, [0, 0, 2], 3)


def test_probes_are_named_or_unknown_below_the_threshold():
    vectors, labels = _people()
    names = [f"p{i}" for i in range(20)]
    gallery = enrol(vectors[labels < 15], labels[labels < 15], names[:15])
    found, scores = identify(gallery, vectors, threshold=0.8)
    known = labels < 15
    found = np.array(found)
    assert np.mean(found[known] == np.array(names)[labels[known]]) > 0.95
    assert np.mean(found[~known] == UNKNOWN) > 0.9  # never enrolled
    assert scores.shape == (80,) and scores.dtype == np.float32


def test_rank1_enrols_the_first_photos_and_asks_the_rest():
    vectors, labels = _people(spread=0.35)
    result = rank1_identification(vectors, labels, enrolled_photos=1)
    assert result["gallery_people"] == 20 and result["probes"] == 60
    assert result["rank1_accuracy"] > 0.9
    noisy = rank1_identification(*_people(spread=3.0), enrolled_photos=1)["rank1_accuracy"]
    assert noisy < result["rank1_accuracy"] - 0.3
    with pytest.raises(ValueError, match="none is left to identify"):
        rank1_identification(vectors, labels, enrolled_photos=4)
