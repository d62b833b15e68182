"""CTC for reading text: how many columns a label needs, and decoding columns to text.

A text reader outputs, per image column, logits over ``blank + alphabet``:
id `BLANK` (0) is the blank and id ``i + 1`` is ``alphabet[i]`` (the ids
`data.ocr_text.encode_texts` gives labels). Keras's `keras.losses.CTC`
trains it from labels padded with `BLANK`. Decoding merges repeated ids and
drops blanks, so ``a a - a b b`` reads ``aab``:

- `ctc_decode`: greedy (the most likely id per column) or beam search over
  whole paths, with a confidence per text, in TensorFlow ops (so it runs
  inside a SavedModel);
- `ids_to_text`: decoded ids to strings, also in TensorFlow ops;
- `columns_needed` / `check_label_lengths`: CTC needs one column per
  character plus one blank between two equal neighbours (``ll`` in
  ``hello`` takes three columns), so a label longer than that cannot be
  learned.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from common.validation import check_positive_int

BLANK = 0
"""Id of the CTC blank; characters are ``1 .. len(alphabet)``."""
STRATEGIES = ("greedy", "beam_search")


def columns_needed(text: str) -> int:
    """Output columns CTC needs for ``text``: its length plus its repeated neighbours.

    Example:
        >>> columns_needed("hello")  # h e l - l o
        6
    """
    return len(text) + sum(left == right for left, right in zip(text, text[1:]))


def check_label_lengths(texts: Sequence[str], columns: int, width: int | None = None) -> None:
    """Raises if a label needs more output columns than the model reads.

    Args:
        texts: The labels.
        columns: Output columns of the model for the images' width.
        width: That width in pixels, for the message.

    Raises:
        ValueError: Naming the longest label, the columns it needs and those there are.
    """
    if not texts:
        return
    longest = max(texts, key=columns_needed)
    needed = columns_needed(longest)
    if needed > columns:
        at_width = f" at an image width of {width} px" if width else ""
        raise ValueError(
            f"Label {longest!r} needs {needed} output columns (one per character plus one "
            f"between each repeated pair, for CTC), but the model reads {columns} "
            f"columns{at_width}. Use wider images (a larger width), pool less along the "
            "width, or shorter labels."
        )


def check_strategy(strategy: str) -> str:
    """Returns a decoding strategy if it is one of `STRATEGIES`, else raises naming it."""
    if strategy not in STRATEGIES:
        raise ValueError(
            f"Invalid value for argument `strategy`. Expected one of {', '.join(STRATEGIES)}. "
            f"Received strategy={strategy!r}."
        )
    return strategy


def ctc_decode(logits, lengths=None, strategy: str = "greedy", beam_width: int = 10):
    """The best text of each row of per-column logits, as ids, with its confidence.

    Args:
        logits: ``float [batch, columns, 1 + alphabet]``, blank first.
        lengths: ``int [batch]`` columns to read per row (all when ``None``).
        strategy: ``"greedy"`` or ``"beam_search"``.
        beam_width: Paths kept by beam search.

    Returns:
        ``(ids, confidence)``: ``int32 [batch, columns]`` character ids
        padded with -1, and ``float32 [batch]``: greedy, the product of the
        chosen columns' probabilities; beam search, the probability of the text.

    Raises:
        ValueError: On an unknown strategy or a bad beam width.
    """
    check_strategy(strategy)
    check_positive_int("beam_width", beam_width)
    log_probabilities = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    shape = tf.shape(log_probabilities)
    if lengths is None:
        lengths = tf.fill([shape[0]], shape[1])
    ids, scores = keras.ops.ctc_decode(
        log_probabilities,
        tf.cast(lengths, tf.int32),
        strategy=strategy,
        beam_width=beam_width,
        top_paths=1,
        mask_index=BLANK,
    )
    ids = ids[0]
    # greedy: minus the sum of the chosen log-probabilities; beam: the path's log-probability
    score = -scores[:, 0] if strategy == "greedy" else scores[:, 0]
    return ids, tf.exp(score)


def ids_to_text(ids, alphabet: str):
    """``int [batch, columns]`` character ids (-1 and `BLANK` ignored) to ``string [batch]``."""
    if not alphabet:
        raise ValueError("Invalid value for argument `alphabet`. Expected at least one character.")
    table = tf.constant(["", ""] + list(alphabet))  # -1 and the blank read as nothing
    return tf.strings.reduce_join(tf.gather(table, tf.cast(ids, tf.int32) + 1), axis=-1)


def ids_to_words(ids, words: Sequence[str]):
    """``int [batch, steps]`` word ids (-1 and `BLANK` ignored) -> ``string [batch]``, spaced.

    Id ``i + 1`` is ``words[i]``, as ``alphabet[i]`` is for `ids_to_text`.
    """
    if not words:
        raise ValueError("Invalid value for argument `words`. Expected at least one word.")
    ids = tf.cast(ids, tf.int32)
    table = tf.constant(["", ""] + list(words))
    said = tf.ragged.boolean_mask(tf.gather(table, tf.maximum(ids + 1, 0)), ids > BLANK)
    return tf.strings.reduce_join(said, axis=-1, separator=" ")
