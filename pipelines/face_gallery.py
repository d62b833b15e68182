"""Identifying people: enrol a gallery of known faces, then name the face in each probe photo.

A person is enrolled as the mean of their photos' unit embeddings, made
unit length again (one vector a person, however many photos), in a
`pipelines.vector_index` index whose item ids are the people's positions in
``names``. A probe is the person whose vector is most similar, or nobody
(`UNKNOWN`) when that cosine is not above a threshold: the verification
threshold the face task chooses on validation people.
`rank1_identification` scores a labelled set the way face recognition
papers do: some photos of each person enrolled, the others asked.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from common.validation import check_positive_int
from pipelines.vector_index import VectorIndex, new_index

UNKNOWN = ""
"""The name given to a probe whose best match is not above the threshold."""


@dataclasses.dataclass(frozen=True)
class FaceGallery:
    """Enrolled people.

    Attributes:
        names: The people; item id ``i`` of the index is ``names[i]``.
        index: One unit vector per person.
    """

    names: tuple[str, ...]
    index: VectorIndex


def person_vectors(vectors, labels, people: int) -> np.ndarray:
    """The mean unit vector of each person's photos, unit length: ``float32 [people, dimension]``.

    Raises:
        ValueError: If a person in ``range(people)`` has no photo.
    """
    vectors, labels = np.asarray(vectors, np.float32), np.asarray(labels)
    counts = np.bincount(labels, minlength=people)
    if counts.shape[0] != people or not counts.all():
        missing = np.flatnonzero(counts[:people] == 0)[:5].tolist()
        raise ValueError(
            f"Invalid value for argument `labels`. Expected a photo of each of {people} people "
            f"(labels 0 to {people - 1}). Received none of {missing} and labels up to "
            f"{int(labels.max())}."
        )
    units = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sums = np.zeros((people, vectors.shape[1]), np.float32)
    np.add.at(sums, labels, units)
    return sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)


def enrol(vectors, labels, names, kind: str = "exact") -> FaceGallery:
    """A `FaceGallery` of ``names``, person ``i`` enrolled from the vectors labelled ``i``.

    Args:
        vectors: Photo embeddings ``[photos, dimension]``.
        labels: The person in each photo, positions in ``names``.
        names: The people.
        kind: Index kind (`pipelines.vector_index.KINDS`): ``exact`` or ``hnsw``.

    Returns:
        The gallery.
    """
    names = tuple(str(name) for name in names)
    centres = person_vectors(vectors, labels, len(names))
    index = new_index(kind, centres.shape[1])
    index.add(np.arange(len(names)), centres)
    return FaceGallery(names, index)


def identify(gallery: FaceGallery, vectors, threshold: float) -> tuple[list[str], np.ndarray]:
    """The enrolled person each probe vector shows, or `UNKNOWN` at or below ``threshold``.

    Args:
        gallery: The enrolled people.
        vectors: Probe embeddings ``[probes, dimension]``.
        threshold: The cosine a best match must exceed to name a person (as
            verification accepts a pair whose cosine exceeds it).

    Returns:
        ``(names, cosines float32 [probes])``: each probe's best match and its cosine.
    """
    ids, scores = gallery.index.query(vectors, 1)
    names = [
        gallery.names[person] if score > threshold else UNKNOWN
        for person, score in zip(ids[:, 0], scores[:, 0], strict=True)
    ]
    return names, scores[:, 0]


def rank1_identification(vectors, labels, enrolled_photos: int = 1) -> dict[str, float]:
    """Rank-1 accuracy: each person's first photos enrolled, their other photos asked.

    Args:
        vectors: Embeddings of a labelled set ``[photos, dimension]``.
        labels: The person in each photo.
        enrolled_photos: Photos of each person enrolled, in order; people with
            no photo left to ask are enrolled (as distractors) but not asked.

    Returns:
        ``{"rank1_accuracy", "gallery_people", "probes"}``.

    Raises:
        ValueError: If no person has a photo left to ask.
    """
    check_positive_int("enrolled_photos", enrolled_photos)
    vectors, labels = np.asarray(vectors, np.float32), np.asarray(labels)
    people, positions = np.unique(labels, return_inverse=True)
    seen = np.zeros(len(people), np.int64)
    enrolled = np.zeros(len(labels), bool)
    for row, person in enumerate(positions):
        enrolled[row] = seen[person] < enrolled_photos
        seen[person] += 1
    if enrolled.all():
        raise ValueError(
            f"Invalid value for argument `enrolled_photos`. Every person has at most "
            f"{enrolled_photos} photo(s), so none is left to identify. Received "
            f"enrolled_photos={enrolled_photos}."
        )
    gallery = enrol(vectors[enrolled], positions[enrolled], people)
    found, _ = gallery.index.query(vectors[~enrolled], 1)
    return {
        "rank1_accuracy": float(np.mean(found[:, 0] == positions[~enrolled])),
        "gallery_people": len(people),
        "probes": int(np.count_nonzero(~enrolled)),
    }
