"""OCR splits for training a reader: a user's images or TFDS, with the alphabet enforced.

- `unseen_text_splits`: a user's images split so that no validation or test
  text is trained on;
- `tfds_text_images`: a TFDS dataset with ``image`` and ``text`` features;
- `keep_known_characters`: labels with characters outside the alphabet
  refused (naming them), their images dropped, or those characters deleted.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from data.ocr import split_unseen_strings
from data.ocr_text import TextImages, check_alphabet, resize_to_height

UNKNOWN_CHARACTERS = ("error", "skip", "remove")
TFDS_IMAGE, TFDS_TEXT = "image", "text"


def unseen_text_splits(
    full: TextImages, test_fraction: float, validation_fraction: float, seed: int, source: str
) -> tuple[TextImages, TextImages, TextImages]:
    """``(train, validation, test)``: no validation or test text occurs in training.

    Args:
        full: The images and texts.
        test_fraction: Share of the distinct texts held out for test.
        validation_fraction: Share of the remaining distinct texts held out for validation.
        seed: Seed of both draws.
        source: The dataset, for messages.

    Raises:
        ValueError: If a split would get no text, naming the option (``test_fraction``
            or ``validation_fraction``) and the count.
    """

    def held_out(texts, fraction: float, option: str):
        try:
            return split_unseen_strings(texts, fraction, seed)
        except ValueError as error:
            message = str(error).replace("test_fraction", option, 1)
            raise ValueError(f"Dataset {source!r}: {message}") from None

    kept, test = held_out(full.texts, test_fraction, "test_fraction")
    rest = full.subset(kept)
    train, validation = held_out(rest.texts, validation_fraction, "validation_fraction")
    return rest.subset(train), rest.subset(validation), full.subset(test)


def tfds_text_images(examples, height: int) -> TextImages:
    """TFDS examples with ``image`` and ``text`` features as grey `TextImages` of one height.

    Examples with an empty text or image are left out.
    """
    images, texts = [], []
    for example in examples:
        image, text = np.asarray(example[TFDS_IMAGE]), example[TFDS_TEXT]
        text = text.decode("utf-8") if isinstance(text, bytes) else str(text)
        if image.ndim == 3:  # channels last: the one channel, or grey from the first three
            image = image[..., 0] if image.shape[-1] == 1 else image[..., :3].mean(axis=-1)
        if text and image.size:
            images.append(resize_to_height(image.astype(np.uint8), height))
            texts.append(text)
    return TextImages(tuple(images), tuple(texts))


def keep_known_characters(
    splits: Mapping[str, TextImages], alphabet: str, policy: str
) -> tuple[dict[str, TextImages], int]:
    """The splits with labels of the alphabet's characters only, and the images dropped.

    Args:
        splits: Split name -> images and texts.
        alphabet: The reader's characters.
        policy: ``"error"`` (raise, naming the characters), ``"skip"`` (drop
            those images) or ``"remove"`` (delete those characters; an image
            whose label becomes empty is dropped).

    Raises:
        ValueError: Under ``"error"``, naming the split, the characters, a
            label and the options that fix it; on an unknown policy.
    """
    if policy not in UNKNOWN_CHARACTERS:
        raise ValueError(
            f"Invalid value for argument `unknown_characters`. Expected one of "
            f"{UNKNOWN_CHARACTERS}. Received unknown_characters={policy!r}."
        )
    allowed, kept, dropped = set(alphabet), {}, 0
    fix = (
        f"Add them to option `alphabet` (now {alphabet!r}), or pass unknown_characters=skip "
        "(drop those images) or remove (delete those characters)."
    )
    for name, split in splits.items():
        if policy == "error":
            try:
                check_alphabet(split.texts, alphabet, fix)
            except ValueError as error:
                raise ValueError(f"The {name} split: {error}") from None
            kept[name] = split
            continue
        if policy == "remove":
            texts = tuple("".join(c for c in text if c in allowed) for text in split.texts)
            split = TextImages(split.images, texts, split.fonts)
        keep = [i for i, text in enumerate(split.texts) if text and set(text) <= allowed]
        dropped += len(split) - len(keep)
        kept[name] = split.subset(keep)
    return kept, dropped
