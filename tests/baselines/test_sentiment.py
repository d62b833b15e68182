import numpy as np

from baselines.sentiment import majority_class, tfidf_logistic_regression
from data.splits_types import TextSplit


def split(pairs):
    texts, labels = zip(*pairs)
    return TextSplit(np.array(texts, dtype=object), np.array(labels, dtype=np.int64))


def test_majority_class_predicts_the_most_frequent_training_label():
    train = split([("a", 1), ("b", 1), ("c", 0)])
    test = split([("x", 1), ("y", 0), ("z", 0), ("w", 1)])
    result = majority_class(train, test)
    assert result["predictions"].tolist() == [1, 1, 1, 1] and result["accuracy"] == 0.5


def test_tfidf_logistic_regression_learns_words_and_bigrams():
    rng = np.random.default_rng(0)
    filler = ["the", "film", "was", "a", "plot", "story"]

    def text(*words):
        return " ".join([*rng.choice(filler, 3), *words, *rng.choice(filler, 2)])

    # "not good" is negative although "good" is mostly positive: "not" and the bigram tell.
    cues = [("good", 1), ("good", 1), ("great", 1), ("bad", 0), ("not good", 0), ("awful", 0)]
    train = split([(text(cue), label) for _ in range(30) for cue, label in cues])
    test = split([(text("good"), 1), (text("not good"), 0), (text("bad"), 0), (text("great"), 1)])
    result = tfidf_logistic_regression(train, test)
    assert result["accuracy"] == 1.0
    assert result["predictions"].tolist() == [1, 0, 0, 1]
