"""Faces users bring: ``root/<person>/<image>`` folders and LFW's ``pairs.txt`` protocol.

`read_face_folder` reads the LFW layout (and any folder of one subfolder
per person), decoding every image to RGB (grayscale ones too) at one size.
Files that are not readable images are skipped with one warning that names
them; a person whose folder holds none is left out. `read_lfw_pairs` reads
LFW's verification protocol: ``pairs.txt`` (a ``folds pairs`` header, then
each fold's matched pairs ``name i j`` and mismatched pairs ``name i name j``)
or ``pairsDevTrain.txt``/``pairsDevTest.txt`` (a ``pairs`` header, one fold).
`pair_rows` finds each pair's photos in a folder: photo ``i`` of ``name`` is
``name/name_000i.<ext>``, as LFW names them. With ``align``, each photo's
face is found and aligned by its eyes (`data.face_detect`) instead of the
whole photo being resized; photos without a face are left out, listed in
`FaceFolder.no_face` and named in a warning.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from data.face_images import FaceImages
from data.image_folder import (
    IMAGE_EXTENSIONS,
    decode_image_file,
    resized_image_file,
    warn_skipped,
)


@dataclasses.dataclass(frozen=True)
class FaceFolder:
    """A face folder loaded into memory.

    Attributes:
        faces: The photos; ``faces.names`` are the person folders, sorted.
        files: Each photo's path relative to the root (``"Ann/Ann_0001.jpg"``), row by row.
        skipped: Files that are not readable images.
        no_face: Photos read with ``align`` in which no face was found (left out).
    """

    faces: FaceImages
    files: tuple[str, ...]
    skipped: tuple[str, ...]
    no_face: tuple[str, ...] = ()

    def photo_counts(self) -> dict[str, int]:
        """Person -> photos read."""
        counts = np.bincount(self.faces.labels, minlength=len(self.faces.names))
        return dict(zip(self.faces.names, counts.tolist(), strict=True))


def _aligned_face(path: Path, size: int, detector) -> np.ndarray | bool | None:
    """The aligned face of a photo file; ``None`` if unreadable, ``False`` if it shows no face."""
    from data.face_detect import align_face, find_face

    photo = decode_image_file(path, channels=3)
    if photo is None:
        return None
    photo = photo.numpy()
    face = find_face(photo, detector=detector)
    return False if face is None else align_face(photo, face, size)


def read_face_folder(
    directory: str | os.PathLike, image_size: tuple[int, int] = (64, 64), align: bool = False
) -> FaceFolder:
    """Reads ``root/<person>/<image>`` into memory, every photo RGB at ``image_size``.

    Args:
        directory: The root folder.
        image_size: ``(height, width)`` each photo is resized to.
        align: Find each photo's face and align it by its eyes into a square
            ``image_size`` crop (`data.face_detect`), rather than resize the photo.

    Returns:
        A `FaceFolder`.

    Raises:
        ValueError: If the folder is missing, no person folder holds a readable
            image, or ``align`` is asked with a size that is not square.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"Face folder {root} does not exist or is not a directory.")
    if len(image_size) != 2 or not all(int(n) == n and n > 0 for n in image_size):
        raise ValueError(
            "Invalid value for argument `image_size`. Expected (height, width), two positive "
            f"integers. Received image_size={image_size!r}."
        )
    size = tuple(int(n) for n in image_size)
    if align and size[0] != size[1]:
        raise ValueError(
            f"Invalid value for argument `image_size`. Aligned faces are square. Received "
            f"image_size={image_size!r} with align=True."
        )
    if align:
        from data.face_detect import face_detector

        detector = face_detector()
    images, labels, files, names, skipped, no_face = [], [], [], [], [], []
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        read = 0
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            image = None
            if path.suffix.lower() in IMAGE_EXTENSIONS:
                if align:
                    image = _aligned_face(path, size[0], detector)
                else:
                    image = resized_image_file(path, size, channels=3)
            if image is False:
                no_face.append(str(path.relative_to(root)))
                continue
            if image is None:
                skipped.append(str(path.relative_to(root)))
                continue
            images.append(image)
            labels.append(len(names))
            files.append(str(path.relative_to(root)))
            read += 1
        if read:
            names.append(folder.name)
    warn_skipped(skipped, root)
    warn_skipped(
        no_face,
        root,
        reason="show no face mtcnn finds (crop them to the face, or read without align)",
    )
    if not images:
        raise ValueError(
            f"Face folder {root} has no person folder with a readable image"
            + (" showing a face" if no_face else "")
            + f". Expected root/<person>/<image> with extensions {', '.join(IMAGE_EXTENSIONS)}."
        )
    faces = FaceImages(np.stack(images), np.asarray(labels, np.int64), tuple(names))
    return FaceFolder(faces, tuple(files), tuple(skipped), tuple(no_face))


@dataclasses.dataclass(frozen=True)
class FacePairs:
    """Verification pairs of LFW's protocol.

    Attributes:
        first: ``(person, photo number)`` of each pair's first photo.
        second: The same of its second photo.
        same: Whether both photos show one person, ``bool [pairs]``.
        folds: Fold of each pair, ``int [pairs]`` (0 to folds - 1).
    """

    first: tuple[tuple[str, int], ...]
    second: tuple[tuple[str, int], ...]
    same: np.ndarray
    folds: np.ndarray

    def __len__(self) -> int:
        return len(self.first)


def _pair_error(path: Path, number: int, line: str, expected: str) -> ValueError:
    return ValueError(f"{path}, line {number}: {line!r} is not {expected}.")


def read_lfw_pairs(path: str | os.PathLike) -> FacePairs:
    """Reads LFW's ``pairs.txt`` (or a one-fold ``pairsDevTest.txt``), fields split by whitespace.

    Args:
        path: The pairs file.

    Returns:
        `FacePairs`, in the file's order.

    Raises:
        ValueError: Naming the file, the line and what it should hold.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Pairs file {path} does not exist: give LFW's pairs.txt.")
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise ValueError(f"Pairs file {path} is not text: give LFW's pairs.txt.") from None
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line]
    if not lines:
        raise ValueError(f"Pairs file {path} is empty: expected a 'folds pairs' header line.")
    header = lines[0][1].split()
    if not 1 <= len(header) <= 2 or not all(field.isdigit() for field in header):
        raise _pair_error(path, lines[0][0], lines[0][1], "a 'folds pairs' or 'pairs' header")
    folds, per_fold = (int(header[0]), int(header[1])) if len(header) == 2 else (1, int(header[0]))
    if not folds or not per_fold:
        raise _pair_error(path, lines[0][0], lines[0][1], "a header of at least 1 fold and 1 pair")
    body = lines[1:]
    if len(body) != 2 * folds * per_fold:
        raise ValueError(
            f"Pairs file {path}: its header says {folds} fold(s) of {per_fold} matched and "
            f"{per_fold} mismatched pairs ({2 * folds * per_fold} lines), but {len(body)} "
            "pair lines follow."
        )
    first, second, same, fold_of = [], [], [], []
    for row, (number, line) in enumerate(body):
        fields = line.split()
        matched = (row // per_fold) % 2 == 0
        shape = "'name i j' (a matched pair)" if matched else "'name i name j' (a mismatched pair)"
        if len(fields) != (3 if matched else 4) or not (
            fields[1].isdigit() and fields[-1].isdigit()
        ):
            raise _pair_error(path, number, line, shape)
        if matched:
            first.append((fields[0], int(fields[1])))
            second.append((fields[0], int(fields[2])))
        else:
            first.append((fields[0], int(fields[1])))
            second.append((fields[2], int(fields[3])))
        same.append(matched)
        fold_of.append(row // (2 * per_fold))
    return FacePairs(tuple(first), tuple(second), np.asarray(same), np.asarray(fold_of, np.int64))


def pair_rows(folder: FaceFolder, pairs: FacePairs) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``folder`` holding each pair's photos.

    Args:
        folder: A `FaceFolder` read from the folder the pairs were made for.
        pairs: Its `FacePairs`.

    Returns:
        ``(first rows, second rows)``, ``int64 [pairs]`` each.

    Raises:
        ValueError: If a pair's photo is not in the folder, naming the file expected.
    """
    row_of = {}
    for row, file in enumerate(folder.files):
        person, name = Path(file).parent.name, Path(file).stem
        number = name.rsplit("_", 1)[-1]
        if number.isdigit():
            row_of[(person, int(number))] = row

    def rows(photos):
        found = []
        for person, number in photos:
            expected = f"{person}/{person}_{number:04d}"
            if (person, number) not in row_of and any(
                Path(file).with_suffix("").as_posix() == expected for file in folder.no_face
            ):
                raise ValueError(
                    f"The pairs ask for photo {number} of {person!r}, in which no face was found "
                    "when the folder was read with align: read it without align (LFW's "
                    "deep-funneled photos are aligned already), or crop that photo to its face."
                )
            if (person, number) not in row_of:
                raise ValueError(
                    f"The pairs ask for photo {number} of {person!r}, but the face folder has "
                    f"no readable {person}/{person}_{number:04d}.<image>: give the folder the "
                    "pairs file was made for."
                )
            found.append(row_of[(person, number)])
        return np.asarray(found, np.int64)

    return rows(pairs.first), rows(pairs.second)
