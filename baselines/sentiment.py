"""Text-classification baselines: TF-IDF + logistic regression, and the majority class.

The TF-IDF pipeline is what a practitioner writes first with scikit-learn:
word 1-2-grams, scikit-learn's defaults otherwise (``C=1``, L2), fit on the
training texts only.
"""

from __future__ import annotations

import numpy as np

from data.splits_types import TextSplit


def tfidf_logistic_regression(train: TextSplit, test: TextSplit, max_iter: int = 1000) -> dict:
    """Fits TF-IDF (word 1-2-grams) + logistic regression on ``train``; scores ``test``.

    Args:
        train: Training texts and labels.
        test: Texts and labels to score.
        max_iter: The solver's iteration cap (scikit-learn's 100 may stop short).

    Returns:
        ``{"accuracy": float, "predictions": int array}`` on ``test``.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(max_iter=max_iter)
    )
    model.fit(train.texts.astype(str), train.labels)
    predictions = model.predict(test.texts.astype(str))
    return {"accuracy": float(np.mean(predictions == test.labels)), "predictions": predictions}


def majority_class(train: TextSplit, test: TextSplit) -> dict:
    """Predicts the most frequent training label for every test text.

    Returns:
        ``{"accuracy": float, "predictions": int array}`` on ``test``.
    """
    label = int(np.bincount(train.labels).argmax())
    predictions = np.full(len(test), label, dtype=np.int64)
    return {"accuracy": float(np.mean(predictions == test.labels)), "predictions": predictions}
