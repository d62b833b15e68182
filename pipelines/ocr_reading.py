"""Reading text images with a trained reader, scoring what it read, and showing it.

- `read_texts`: images of any widths in, texts out, greedy or by beam
  search; a batch holds images of one width only, so no image is padded and
  each is read exactly as the SavedModel reads it alone (the reader masks
  padding's columns, but padding still changes the convolutions at an
  image's right edge);
- `reading_scores`: CER and exact accuracy of each split (`data.ocr`'s four);
- `samples_figure`: a grid of images with what was read under each, wrong
  characters in red.
"""

from __future__ import annotations

import difflib
import weakref
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from data.ocr_text import TextImages
from pipelines.metrics import text_recognition_scores

READ_BATCH = 128
SAMPLE_ROWS = 12  # images in a samples figure
CORRECT, WRONG = "#1a7f37", "#cf222e"


_READERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled_reading(reader, beam_width: int):
    """``images -> text`` of a reader as one graph for any batch and width, traced once."""
    import tensorflow as tf

    from models.ctc import ctc_decode
    from models.ocr import read_logits, reader_height

    by_beam = _READERS.setdefault(reader, {})
    if beam_width not in by_beam:
        strategy = "greedy" if beam_width == 1 else "beam_search"
        height = reader_height(reader)

        @tf.function(input_signature=[tf.TensorSpec((None, height, None, 1), tf.uint8)])
        def read(images):
            logits = read_logits(reader, images)
            return ctc_decode(logits, strategy=strategy, beam_width=beam_width)[0]

        by_beam[beam_width] = read
    return by_beam[beam_width]


def read_texts(reader, images: Sequence[np.ndarray], alphabet: str, beam_width: int = 1):
    """What ``reader`` reads in each image.

    Args:
        reader: A `models.ocr.text_reader`.
        images: ``uint8 [height, w_i]`` grayscale images at the reader's height.
        alphabet: The reader's characters.
        beam_width: 1 decodes greedily; more, by CTC beam search keeping that many paths.

    Returns:
        The texts, in the order of ``images``.
    """
    import tensorflow as tf

    from models.ctc import ids_to_text

    read = _compiled_reading(reader, beam_width)
    texts: list[str] = [""] * len(images)
    by_width: dict[int, list[int]] = {}
    for index, image in enumerate(images):
        by_width.setdefault(image.shape[1], []).append(index)
    for indices in by_width.values():
        for start in range(0, len(indices), READ_BATCH):
            chosen = indices[start : start + READ_BATCH]
            batch = np.stack([images[i] for i in chosen])[..., np.newaxis]
            ids = read(tf.constant(batch))
            for index, text in zip(chosen, ids_to_text(ids, alphabet).numpy(), strict=True):
                texts[index] = text.decode("utf-8")
    return texts


def reading_scores(
    reader, splits: Mapping[str, TextImages], alphabet: str, beam_width: int = 1
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """``({"<split>_cer": ..., "<split>_exact_accuracy": ...}, {split: texts read})``."""
    metrics, read = {}, {}
    for name, split in splits.items():
        read[name] = read_texts(reader, split.images, alphabet, beam_width)
        scores = text_recognition_scores(read[name], split.texts)
        metrics[f"{name}_cer"] = scores["cer"]
        metrics[f"{name}_exact_accuracy"] = scores["accuracy"]
    return metrics, read


def _wrong_positions(read: str, true: str) -> set[int]:
    """Positions in ``read`` that are not matched characters of ``true``."""
    matcher = difflib.SequenceMatcher(a=read, b=true, autojunk=False)
    matched = {block.a + k for block in matcher.get_matching_blocks() for k in range(block.size)}
    return set(range(len(read))) - matched


def samples_figure(split: TextImages, read: Sequence[str], title: str = "") -> Figure:
    """Up to `SAMPLE_ROWS` images, each over ``read: <text>`` (wrong characters red) and the truth.

    A text read with characters missing shows them as ``·`` red.
    """
    rows = min(SAMPLE_ROWS, len(split))
    figure = Figure(figsize=(6, 0.9 * rows + 0.4))
    if title:
        figure.suptitle(title, fontsize=9)
    for row in range(rows):
        axes = figure.add_subplot(rows, 1, row + 1)
        axes.imshow(split.images[row], cmap="gray", vmin=0, vmax=255, aspect="equal")
        axes.set_axis_off()
        text, true = read[row], split.texts[row]
        wrong = _wrong_positions(text, true)
        shown = text if text else "·"
        missing = len(true) - (len(text) - len(wrong)) > len(wrong)  # beyond substitutions
        x = 1.02
        for position, char in enumerate(shown):
            color = WRONG if (position in wrong or not text) else CORRECT
            axes.text(x, 0.55, char, color=color, transform=axes.transAxes, family="monospace")
            x += 0.035
        if missing and text:
            axes.text(x, 0.55, "·", color=WRONG, transform=axes.transAxes, family="monospace")
        axes.text(1.02, 0.05, f"true: {true}", color="0.4", fontsize=7, transform=axes.transAxes)
    figure.subplots_adjust(left=0.02, right=0.55, top=0.95 if title else 0.99, bottom=0.01)
    return figure
