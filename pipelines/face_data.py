"""The faces task's people: who trains, who sets the threshold, who is tested, and the test pairs.

Three groups of people, never sharing a person: the training people (the
margin loss learns a centre for each), the validation people (their pairs
choose the verification threshold the ``verify`` export keeps) and the test
people (verification pairs scored by LFW's 10-fold protocol, and rank-1
identification against a gallery of them). They come from:

- ``synthetic_faces`` (the default): `data.face_synth.synthetic_face_splits`
  draws ``train_people``, ``validation_people`` and ``test_people`` new people
  with ``photos_per_person`` photos each; the test people do not move with
  the training seed;
- a face folder ``data_dir`` (``root/<person>/<image>``, LFW's layout):
  ``test_people`` and ``validation_people`` people are drawn from those with
  two photos or more, the rest train. With ``pairs_file`` (LFW's
  ``pairs.txt``), the test people are everyone the pairs name and the test
  pairs are the file's, so the figures are LFW's protocol.

Test and validation pairs are otherwise drawn in LFW's shape
(`pipelines.face_verification.drawn_pairs`): 10 folds of 300 same-person
and 300 different-person pairs. A person with one photo cannot make a
same-person pair: such people train, or take part in different-person pairs
and the gallery only, and the run says how many there were.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from data.face_images import FaceImages

if TYPE_CHECKING:
    from pipelines.config import TrainConfig

PAIRS_PER_FOLD = 300
FOLDS = 10
SYNTHETIC = "synthetic_faces"


@dataclasses.dataclass(frozen=True)
class PairRows:
    """Verification pairs as rows of one `FaceImages`.

    Attributes:
        first: Row of each pair's first photo.
        second: Row of its second photo.
        same: Whether both show one person.
        folds: Fold of each pair.
    """

    first: np.ndarray
    second: np.ndarray
    same: np.ndarray
    folds: np.ndarray


@dataclasses.dataclass(frozen=True)
class FaceData:
    """The people of a faces run (see the module docstring).

    Attributes:
        name: The dataset's name (``synthetic_faces`` or the folder's).
        train: Photos of the training people.
        validation: Photos of the validation people.
        test: Photos of the test people.
        validation_pairs: Pairs of validation photos.
        test_pairs: Pairs of test photos (LFW's when ``pairs_file`` is given).
        no_face: Photos of the folder in which no face was found (with ``align``).
        single_photo_people: People of the folder with one photo only.
    """

    name: str
    train: FaceImages
    validation: FaceImages
    test: FaceImages
    validation_pairs: PairRows
    test_pairs: PairRows
    no_face: tuple[str, ...] = ()
    single_photo_people: tuple[str, ...] = ()


def people_subset(faces: FaceImages, people) -> FaceImages:
    """The photos of some people (positions in ``faces.names``), relabelled 0.. in that order."""
    people = np.asarray(people, np.int64)
    position = np.full(len(faces.names), -1, np.int64)
    position[people] = np.arange(len(people))
    rows = np.flatnonzero(position[faces.labels] >= 0)
    return FaceImages(
        faces.images[rows],
        position[faces.labels[rows]],
        tuple(faces.names[person] for person in people),
    )


def drawn_pair_rows(faces: FaceImages, seed: int, split: str) -> PairRows:
    """LFW-shaped pairs drawn from a split's people.

    Raises:
        ValueError: If the split has fewer than two people, or nobody with two
            photos; the message names the split.
    """
    from pipelines.face_verification import drawn_pairs

    counts = np.bincount(faces.labels, minlength=len(faces.names))
    if len(faces.names) < 2:
        raise ValueError(
            f"The {split} split has {len(faces.names)} person: different-person pairs need two "
            f"people. Raise {split}_people to 2 or more."
        )
    if counts.max() < 2:
        raise ValueError(
            f"No person of the {split} split has two photos: same-person pairs need two photos "
            "of someone. Give people two photos or more (photos_per_person for synthetic people)."
        )
    return PairRows(*drawn_pairs(faces.labels, PAIRS_PER_FOLD, FOLDS, seed))


def _synthetic(config: TrainConfig) -> FaceData:
    from data.choice import SPLIT_SEED
    from data.face_synth import synthetic_face_splits

    splits = synthetic_face_splits(
        {
            "train": config.train_people,
            "validation": config.validation_people,
            "test": config.test_people,
        },
        config.photos_per_person,
        seed=SPLIT_SEED,
        size=config.image_size,
    )
    return FaceData(
        SYNTHETIC,
        splits["train"],
        splits["validation"],
        splits["test"],
        drawn_pair_rows(splits["validation"], SPLIT_SEED + 1, "validation"),
        drawn_pair_rows(splits["test"], SPLIT_SEED, "test"),
    )


def _drawn_people(counts: np.ndarray, config: TrainConfig, kept: np.ndarray):
    """``(validation, test)`` people drawn among those with two photos, outside ``kept``."""
    from data.choice import SPLIT_SEED

    candidates = np.flatnonzero((counts >= 2) & ~kept)
    wanted = config.validation_people + (0 if kept.any() else config.test_people)
    if len(candidates) < wanted or len(counts) - wanted - kept.sum() < 2:
        raise ValueError(
            f"The face folder {config.data_dir} has {len(counts)} people, {len(candidates)} of "
            f"them with two photos or more outside the test pairs; validation_people="
            f"{config.validation_people}"
            + ("" if kept.any() else f" and test_people={config.test_people}")
            + " must come from those and leave at least 2 people to train on. Lower them or add "
            "people."
        )
    drawn = np.random.default_rng(SPLIT_SEED).permutation(candidates)[:wanted]
    return np.sort(drawn[: config.validation_people]), np.sort(drawn[config.validation_people :])


def _folder(config: TrainConfig) -> FaceData:
    from pathlib import Path

    from data.choice import SPLIT_SEED
    from data.face_folders import pair_rows, read_face_folder, read_lfw_pairs

    folder = read_face_folder(config.data_dir, (config.image_size,) * 2, align=config.align)
    faces = folder.faces
    counts = np.bincount(faces.labels, minlength=len(faces.names))
    single = tuple(name for name, count in zip(faces.names, counts, strict=True) if count < 2)
    if single:
        print(
            f"{len(single)} people of {config.data_dir} have one photo (e.g. {single[0]}): they "
            "train, or join different-person pairs and galleries, never same-person pairs."
        )
    in_pairs = np.zeros(len(faces.names), bool)
    if config.pairs_file:
        pairs = read_lfw_pairs(config.pairs_file)
        first, second = pair_rows(folder, pairs)
        in_pairs[faces.labels[np.concatenate([first, second])]] = True
    validation_people, test_people = _drawn_people(counts, config, in_pairs)
    if config.pairs_file:
        test_people = np.flatnonzero(in_pairs)
    training = np.setdiff1d(np.arange(len(faces.names)), np.r_[validation_people, test_people])
    test = people_subset(faces, test_people)
    validation = people_subset(faces, validation_people)
    if config.pairs_file:
        test_row = np.full(len(faces), -1, np.int64)
        test_row[np.isin(faces.labels, test_people)] = np.arange(len(test))
        test_pairs = PairRows(test_row[first], test_row[second], pairs.same, pairs.folds)
    else:
        test_pairs = drawn_pair_rows(test, SPLIT_SEED, "test")
    return FaceData(
        Path(config.data_dir).resolve().name or "faces",
        people_subset(faces, training),
        validation,
        test,
        drawn_pair_rows(validation, SPLIT_SEED + 1, "validation"),
        test_pairs,
        folder.no_face,
        single,
    )


def load_faces(config: TrainConfig) -> FaceData:
    """The `FaceData` of a faces config: synthetic people, or a folder's (module docstring).

    Raises:
        ValueError: On a folder that does not read, too few people to split,
            or a pairs file that does not fit the folder; each message names the fix.
    """
    return _folder(config) if config.data_dir else _synthetic(config)


def fit_split(faces: FaceImages, fraction: float, seed: int) -> tuple[FaceImages, FaceImages]:
    """``(fit, held out)``: a share of the training photos held out to watch the loss on.

    The held-out photos are of training people (the margin loss needs their
    centres): one at least of each person with two photos, who keeps one at least.

    Raises:
        ValueError: If ``fraction`` holds out no photo.
    """
    rng = np.random.default_rng(seed)
    held = np.zeros(len(faces), bool)
    for person in range(len(faces.names)):
        rows = np.flatnonzero(faces.labels == person)
        take = min(len(rows) - 1, max(int(fraction > 0), round(len(rows) * fraction)))
        held[rng.choice(rows, take, replace=False)] = True
    if not held.any():
        raise ValueError(
            f"Invalid value for argument `validation_fraction`. Expected a share that holds out "
            f"some training photos to watch the loss on (people keep one photo each). Received "
            f"validation_fraction={fraction} for {len(faces)} photos of {len(faces.names)} people."
        )
    return tuple(
        FaceImages(faces.images[mask], faces.labels[mask], faces.names) for mask in (~held, held)
    )
