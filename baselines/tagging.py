"""Tagging baselines: a feature CRF (sklearn-crfsuite) and the most frequent tag per word.

The feature CRF is what a practitioner writes for named entities in tweets
before any network: each token described by its lower-cased form, shape,
affixes, casing and tweet markers (hashtag, mention, URL), the same for its
neighbours two either side, and a linear-chain CRF over the tags, its L1/L2
penalties chosen on the validation split. Scores are seqeval's entity
precision/recall/F1 (exact spans, default IOB2 chunking).

Example:
    >>> tagger = FeatureCRFTagger().fit(train.tokens, train.tags)
    >>> entity_scores(test.tags, tagger.predict(test.tokens))["f1"]
"""

from __future__ import annotations

import collections
import itertools
import re
from collections.abc import Sequence

from common.validation import check_non_negative, check_positive_int

URL = re.compile(r"^(https?://|www\.)\S+$", re.IGNORECASE)
NEIGHBOURS = (-2, -1, 1, 2)
DEFAULT_C1, DEFAULT_C2 = 0.1, 0.1
C1_GRID, C2_GRID = (0.0, 0.05, 0.2), (0.01, 0.1, 0.5)


def word_shape(token: str) -> str:
    """Each character as ``X`` (upper), ``x`` (lower), ``d`` (digit) or itself.

    Example:
        >>> word_shape("McDonald2")
        'XxXxxxxxd'
    """
    return "".join(
        "X" if c.isupper() else "x" if c.islower() else "d" if c.isdigit() else c for c in token
    )


def short_shape(token: str) -> str:
    """`word_shape` with runs of the same symbol collapsed: ``"Hello99"`` -> ``"Xxd"``."""
    return "".join(symbol for symbol, _ in itertools.groupby(word_shape(token)))


def token_features(token: str) -> dict[str, str | bool]:
    """The features of one token on its own (no context).

    Returns:
        Lower-cased word, shape and short shape, prefixes and suffixes of 1-3
        characters, upper/title/digit flags, and the tweet markers: hashtag
        (``#``), mention (``@``) and URL.
    """
    features: dict[str, str | bool] = {
        "lower": token.lower(),
        "shape": word_shape(token),
        "short_shape": short_shape(token),
        "is_upper": token.isupper(),
        "is_title": token.istitle(),
        "is_digit": token.isdigit(),
        "is_hashtag": token.startswith("#") and len(token) > 1,
        "is_mention": token.startswith("@") and len(token) > 1,
        "is_url": bool(URL.match(token)),
    }
    for n in (1, 2, 3):
        features[f"prefix{n}"] = token[:n]
        features[f"suffix{n}"] = token[-n:]
    return features


def sentence_features(tokens: Sequence[str]) -> list[dict[str, str | bool | float]]:
    """The CRF's features of every token: its own, its neighbours' (±1, ±2), BOS/EOS.

    A neighbour's features are prefixed with its offset (``"-1:lower"``);
    the first token has ``BOS`` and the last ``EOS``.

    Args:
        tokens: One sentence.

    Returns:
        One feature dict per token.
    """
    own = [token_features(token) for token in tokens]
    sentence = []
    for position, features in enumerate(own):
        merged: dict[str, str | bool | float] = {"bias": 1.0, **features}
        for offset in NEIGHBOURS:
            at = position + offset
            if 0 <= at < len(own):
                merged.update({f"{offset:+d}:{key}": value for key, value in own[at].items()})
        if position == 0:
            merged["BOS"] = True
        if position == len(own) - 1:
            merged["EOS"] = True
        sentence.append(merged)
    return sentence


def entity_scores(
    true_tags: Sequence[Sequence[str]], predicted_tags: Sequence[Sequence[str]]
) -> dict[str, float]:
    """Entity precision, recall and F1 as seqeval computes them (micro, default IOB2 chunking).

    An ``I-X`` that does not continue an ``X`` entity starts one, as in
    conlleval. Undefined scores (no entity predicted or none true) are 0.
    """
    from seqeval.metrics import f1_score, precision_score, recall_score

    true, predicted = [list(s) for s in true_tags], [list(s) for s in predicted_tags]
    return {
        "precision": float(precision_score(true, predicted, zero_division=0)),
        "recall": float(recall_score(true, predicted, zero_division=0)),
        "f1": float(f1_score(true, predicted, zero_division=0)),
    }


def _check_aligned(tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> None:
    if len(tokens) != len(tags):
        raise ValueError(
            f"Expected one tag sequence per sentence; received {len(tokens)} sentences and "
            f"{len(tags)} tag sequences."
        )
    for row, (sentence, labels) in enumerate(zip(tokens, tags)):
        if len(sentence) != len(labels):
            raise ValueError(f"Sentence {row} has {len(sentence)} tokens but {len(labels)} tags.")
    if not tokens:
        raise ValueError("Expected at least one training sentence; received none.")


class FeatureCRFTagger:
    """A linear-chain CRF over `sentence_features` (L-BFGS, sklearn-crfsuite).

    Args:
        c1: L1 penalty.
        c2: L2 penalty.
        max_iterations: L-BFGS iterations.

    Raises:
        ValueError: On a negative penalty or a non-positive ``max_iterations``.
    """

    def __init__(self, c1: float = DEFAULT_C1, c2: float = DEFAULT_C2, max_iterations: int = 100):
        self.c1 = check_non_negative("c1", c1)
        self.c2 = check_non_negative("c2", c2)
        self.max_iterations = check_positive_int("max_iterations", max_iterations)
        self.crf = None

    def fit(
        self, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]
    ) -> FeatureCRFTagger:
        """Trains on tagged sentences; returns ``self``.

        Raises:
            ValueError: If sentences and tags do not align.
        """
        import sklearn_crfsuite

        _check_aligned(tokens, tags)
        self.crf = sklearn_crfsuite.CRF(
            algorithm="lbfgs",
            c1=self.c1,
            c2=self.c2,
            max_iterations=self.max_iterations,
            all_possible_transitions=True,
        )
        self.crf.fit([sentence_features(s) for s in tokens], [list(t) for t in tags])
        return self

    def predict(self, tokens: Sequence[Sequence[str]]) -> list[list[str]]:
        """The Viterbi tags of each sentence.

        Raises:
            RuntimeError: If called before `fit`.
        """
        if self.crf is None:
            raise RuntimeError("FeatureCRFTagger.predict needs fit() first.")
        return [list(t) for t in self.crf.predict([sentence_features(s) for s in tokens])]


def tuned_feature_crf(
    train_tokens: Sequence[Sequence[str]],
    train_tags: Sequence[Sequence[str]],
    validation_tokens: Sequence[Sequence[str]],
    validation_tags: Sequence[Sequence[str]],
    c1_grid: Sequence[float] = C1_GRID,
    c2_grid: Sequence[float] = C2_GRID,
    max_iterations: int = 100,
) -> tuple[FeatureCRFTagger, dict[str, float]]:
    """The feature CRF whose (c1, c2) scores the best validation entity F1.

    Every pair of the grids is trained on the training split and scored on
    validation; ties keep the first pair.

    Returns:
        The chosen tagger (trained on the training split) and
        ``{"c1", "c2", "validation_f1"}``.
    """
    best, chosen = None, {}
    for c1, c2 in itertools.product(c1_grid, c2_grid):
        tagger = FeatureCRFTagger(c1, c2, max_iterations).fit(train_tokens, train_tags)
        f1 = entity_scores(validation_tags, tagger.predict(validation_tokens))["f1"]
        if best is None or f1 > chosen["validation_f1"]:
            best, chosen = tagger, {"c1": c1, "c2": c2, "validation_f1": f1}
    return best, chosen


class MostFrequentTagger:
    """Tags each word with its most frequent training tag (unknown words: the commonest tag).

    Words are matched exactly (case kept); ties go to the tag seen first.

    Args:
        tokens: Training sentences.
        tags: Their tags.

    Raises:
        ValueError: If sentences and tags do not align or there are none.
    """

    def __init__(self, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]):
        _check_aligned(tokens, tags)
        counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        overall: collections.Counter = collections.Counter()
        for sentence, sentence_tags in zip(tokens, tags):
            for token, tag in zip(sentence, sentence_tags):
                counts[token][tag] += 1
                overall[tag] += 1
        self.default = overall.most_common(1)[0][0]
        self.best = {token: counter.most_common(1)[0][0] for token, counter in counts.items()}

    def predict(self, tokens: Sequence[Sequence[str]]) -> list[list[str]]:
        """One tag per token."""
        return [[self.best.get(token, self.default) for token in sentence] for sentence in tokens]
