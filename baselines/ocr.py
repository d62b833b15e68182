"""OCR baseline: Tesseract, the reader a practitioner reaches for before training one.

`tesseract_read` runs the ``tesseract`` command (Debian ``tesseract-ocr`` and
``tesseract-ocr-eng``) on ``uint8`` grayscale text images as single lines
(``--psm 7``), once for a whole list of images, as a practitioner calls it:
the image as it is, English, no character list (limiting Tesseract to an
alphabet also drops the spaces between words). ``scale`` and ``alphabet``
let a bench try what might help it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from common.validation import check_positive_int

TESSERACT = "tesseract"
INSTALL = "sudo apt-get install tesseract-ocr tesseract-ocr-eng"
PAGE_BREAK = "\f"  # Tesseract ends each image's text with a form feed


def tesseract_available() -> bool:
    """Whether the ``tesseract`` command is on the PATH."""
    return shutil.which(TESSERACT) is not None


def tesseract_read(
    images: Sequence[np.ndarray],
    alphabet: str = "",
    scale: int = 1,
    timeout: float = 1800,
) -> list[str]:
    """The text Tesseract reads in each image, as one line.

    Args:
        images: ``uint8 [height, width]`` (or ``[height, width, 1]``) grayscale images.
        alphabet: If set, the only characters Tesseract may output besides spaces
            (Tesseract then tends to drop the spaces too).
        scale: Each image is enlarged by this factor (bicubic) before reading.
        timeout: Seconds the whole run may take.

    Returns:
        One text per image, stripped of surrounding white space.

    Raises:
        FileNotFoundError: If Tesseract is not installed (naming the install command).
        RuntimeError: If Tesseract fails or answers for a different number of images.
    """
    check_positive_int("scale", scale)
    if not tesseract_available():
        raise FileNotFoundError(f"Tesseract is not installed: run `{INSTALL}`.")
    if not len(images):
        return []
    with tempfile.TemporaryDirectory(prefix="convseq-tesseract-") as folder:
        paths = []
        for index, image in enumerate(images):
            pixels = np.asarray(image, np.uint8).squeeze()
            picture = Image.fromarray(pixels)
            if scale > 1:
                picture = picture.resize(
                    (picture.width * scale, picture.height * scale), Image.Resampling.BICUBIC
                )
            path = Path(folder) / f"{index:06d}.png"
            picture.save(path)
            paths.append(str(path))
        listing = Path(folder) / "images.txt"
        listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
        command = [TESSERACT, str(listing), "stdout", "--psm", "7", "-l", "eng"]
        if alphabet:
            allowed = "".join(sorted(set(alphabet) - {" "}))
            command += ["-c", f"tessedit_char_whitelist={allowed}"]
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    if completed.returncode != 0:
        raise RuntimeError(f"Tesseract failed ({completed.returncode}): {completed.stderr[-500:]}")
    pages = completed.stdout.split(PAGE_BREAK)
    if pages and not pages[-1].strip():
        pages = pages[:-1]
    if len(pages) != len(images):
        raise RuntimeError(f"Tesseract answered for {len(pages)} images; {len(images)} were asked.")
    return [" ".join(page.split()) for page in pages]
