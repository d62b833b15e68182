"""``convseq faces enroll`` and ``convseq faces identify``: name the people in photos.

- ``convseq faces enroll --run <run_id> --gallery <folder> [--enrolled face_gallery]``:
  reads a face folder ``root/<person>/<image>`` (one photo a person is
  enough) as the ``task=faces`` run read its photos (its ``image_size``, and
  aligned by the eyes if it trained aligned), embeds them with the run's
  ``embed`` SavedModel and enrols each person (`pipelines.face_gallery`).
  The enrolled folder holds everything ``identify`` needs, no tracking
  store: ``embed/`` (the SavedModel), ``index/`` (one vector a person),
  ``people.csv`` (id, person, photos) and ``gallery.json`` (the run, its
  verification threshold, the image size and alignment). It is written
  whole or not at all.
- ``convseq faces identify --images <file|folder> [--enrolled face_gallery]``:
  one JSON line per photo, ``{"image", "person", "score", "known"}``: the
  enrolled person most like it, or ``"person": ""`` and ``"known": false``
  when the cosine is not above the threshold (the run's validation threshold
  unless ``--threshold`` is given). With alignment, a photo in which no face
  is found gets ``"no_face": true``.

Importing this module loads neither TensorFlow nor MLflow.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from common.folders import swap_in
from common.validation import check_positive_int
from pipelines.options import choice_parser, option_field, parse_fields

ACTIONS = ("enroll", "identify")
GALLERY_FILE = "gallery.json"
PEOPLE_FILE = "people.csv"
RUN_THRESHOLD = -1.0
"""``--threshold`` value meaning "the training run's validation threshold"."""


def _check_threshold(name: str, value: float) -> float:
    if not -1.0 <= value <= 1.0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a cosine in [-1, 1] (-1: the "
            f"training run's validation threshold). Received {name}={value}."
        )
    return value


@dataclasses.dataclass(frozen=True)
class FacesConfig:
    """A ``convseq faces enroll|identify`` job."""

    action: str = option_field(
        "",
        "enroll (a folder of people into a gallery) or identify (photos against it)",
        parse=choice_parser("action", ACTIONS),
    )
    run_id: str = option_field("", "enroll: id of a task=faces training run")
    gallery: str = option_field("", "enroll: face folder root/<person>/<image> to enrol")
    enrolled: str = option_field(
        "face_gallery", "folder enroll writes the gallery to and identify reads it from"
    )
    images: str = option_field("", "identify: photo file or folder of photos")
    threshold: float = option_field(
        RUN_THRESHOLD,
        "identify: the cosine a best match must exceed to name a person (-1: the run's "
        "validation threshold)",
        check=_check_threshold,
    )
    output: str = option_field("identities.jsonl", "identify: JSON lines file to write")
    batch_size: int = option_field(64, "photos per model call", check=check_positive_int)

    def __post_init__(self):
        parse_fields(self)
        needed = {"enroll": ("run_id", "gallery"), "identify": ("images",)}[self.action]
        for name in needed:
            if not getattr(self, name):
                raise ValueError(
                    f"Invalid value for argument `{name}`. convseq faces {self.action} needs "
                    f"--{name}: {type(self).__dataclass_fields__[name].metadata['help']}. "
                    f"Received {name}=''."
                )


def _embedded(embed, images: np.ndarray, batch_size: int) -> np.ndarray:
    vectors = [
        embed.serve(images[start : start + batch_size])["embedding"].numpy()
        for start in range(0, len(images), batch_size)
    ]
    return np.concatenate(vectors).astype(np.float32)


def enroll(config: FacesConfig) -> tuple[Path, int]:
    """Writes the enrolled gallery; returns its folder and the people enrolled.

    Raises:
        ValueError: If the run is not a finished faces run or the folder holds no face.
    """
    import mlflow
    import tensorflow as tf

    from data.face_folders import read_face_folder
    from pipelines.config import TrainConfig
    from pipelines.face_gallery import enrol
    from pipelines.face_outcome import THRESHOLD_METRIC
    from pipelines.search_run import finished_run

    target = Path(config.enrolled)
    if target.exists() and not (target / GALLERY_FILE).is_file():
        raise ValueError(
            f"Invalid value for argument `enrolled`. {target} exists and is not an enrolled "
            "gallery: give a new folder (enroll replaces only a gallery it wrote)."
        )
    run = finished_run(config.run_id, "faces", "faces enroll and identify")
    trained = TrainConfig.from_params(run.data.params)
    folder = read_face_folder(config.gallery, (trained.image_size,) * 2, align=trained.align)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        embed_dir = mlflow.artifacts.download_artifacts(
            run_id=config.run_id, artifact_path="saved_model", dst_path=str(staging)
        )
        os.rename(embed_dir, staging / "embed")
        embed = tf.saved_model.load(str(staging / "embed"))
        vectors = _embedded(embed, folder.faces.images, config.batch_size)
        gallery = enrol(vectors, folder.faces.labels, folder.faces.names)
        gallery.index.save(staging / "index", model=config.run_id)
        counts = folder.photo_counts()
        with (staging / PEOPLE_FILE).open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["id", "person", "photos"])
            writer.writerows((i, name, counts[name]) for i, name in enumerate(gallery.names))
        facts = {
            "run_id": config.run_id,
            "threshold": run.data.metrics[THRESHOLD_METRIC],
            "image_size": trained.image_size,
            "align": trained.align,
            "people": len(gallery.names),
            "dimension": int(vectors.shape[1]),
        }
        (staging / GALLERY_FILE).write_text(json.dumps(facts, indent=2), "utf-8")
        swap_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target, len(gallery.names)


def _probe_faces(paths: list[Path], size: int, align: bool) -> tuple[np.ndarray, list[bool]]:
    """The photos as the gallery was read: ``(faces uint8 [found, size, size, 3], found?)``."""
    from data.face_detect import align_face, face_detector, find_face
    from data.image_folder import decode_image_file, resized_image_file

    detector = face_detector() if align else None
    faces, found = [], []
    for path in paths:
        if align:
            photo = decode_image_file(path, channels=3).numpy()
            box = find_face(photo, detector=detector)
            face = None if box is None else align_face(photo, box, size)
        else:
            face = resized_image_file(path, (size, size), channels=3)
        found.append(face is not None)
        if face is not None:
            faces.append(face)
    empty = np.zeros((0, size, size, 3), np.uint8)
    return (np.stack(faces) if faces else empty), found


def identify(config: FacesConfig) -> tuple[Path, int, int]:
    """Writes who each photo shows; returns the output path and the known and unknown counts.

    Raises:
        FileNotFoundError: If the enrolled folder or the images do not exist.
        ValueError: If a single image does not decode.
    """
    import tensorflow as tf

    from pipelines.face_gallery import UNKNOWN, FaceGallery
    from pipelines.face_gallery import identify as identify_vectors
    from pipelines.search_run import query_images, write_json_lines
    from pipelines.vector_index import load_index

    enrolled = Path(config.enrolled)
    if not (enrolled / GALLERY_FILE).is_file():
        raise FileNotFoundError(
            f"No enrolled gallery in {enrolled} (no {GALLERY_FILE}): run convseq faces enroll "
            "--run <run_id> --gallery <folder> first, or give --enrolled."
        )
    facts = json.loads((enrolled / GALLERY_FILE).read_text("utf-8"))
    with (enrolled / PEOPLE_FILE).open(newline="", encoding="utf-8") as file:
        names = tuple(row["person"] for row in csv.DictReader(file))
    index = load_index(enrolled / "index", facts["dimension"], model=facts["run_id"])
    gallery = FaceGallery(names, index)
    threshold = facts["threshold"] if config.threshold == RUN_THRESHOLD else config.threshold
    paths = query_images(config)
    faces, found = _probe_faces(paths, facts["image_size"], facts["align"])
    embed = tf.saved_model.load(str(enrolled / "embed"))
    people, scores = ([], [])
    if len(faces):
        people, scores = identify_vectors(
            gallery, _embedded(embed, faces, config.batch_size), threshold
        )
    answers = iter(zip(people, np.asarray(scores).tolist(), strict=True))
    rows = []
    for path, has_face in zip(paths, found, strict=True):
        if not has_face:
            rows.append({"image": str(path), "person": UNKNOWN, "known": False, "no_face": True})
            continue
        person, score = next(answers)
        known = person != UNKNOWN
        rows.append(
            {"image": str(path), "person": person, "score": round(score, 6), "known": known}
        )
    known = sum(row["known"] for row in rows)
    return write_json_lines(config.output, rows), known, len(rows) - known
