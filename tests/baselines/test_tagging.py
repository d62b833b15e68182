import numpy as np
import pytest
from seqeval.metrics import f1_score, precision_score, recall_score

from baselines.tagging import (
    FeatureCRFTagger,
    MostFrequentTagger,
    entity_scores,
    sentence_features,
    short_shape,
    token_features,
    tuned_feature_crf,
    word_shape,
)


def synthetic(n, seed):
    """'met <Name> Smith' is a person, 'in <City>' a place, among filler; names vary by seed."""
    rng = np.random.default_rng(seed)
    filler = ["we", "saw", "a", "dog", "today", "then", "left", "lol"]
    tokens, tags = [], []
    for _ in range(n):
        name = "".join(rng.choice(list("bcdfgklmnprst"), 1)).upper() + "".join(
            rng.choice(list("aeiou"), 2)
        )
        city = "".join(rng.choice(list("BDGKLMPRST"), 1)) + "".join(rng.choice(list("aeio"), 3))
        words = [*rng.choice(filler, 2), "met", name, "Smith", "in", city, *rng.choice(filler, 2)]
        labels = ["O", "O", "O", "B-person", "I-person", "O", "B-geo-loc", "O", "O"]
        tokens.append(tuple(words))
        tags.append(tuple(labels))
    return tokens, tags


def test_word_shapes():
    assert word_shape("McD's2") == "XxX'xd"
    assert short_shape("Hello99") == "Xxd"
    assert short_shape("#NBA") == "#X"


def test_features_of_a_known_token():
    features = token_features("#Obama")
    assert features["lower"] == "#obama"
    assert features["shape"] == "#Xxxxx"
    assert features["short_shape"] == "#Xx"
    assert (features["prefix1"], features["prefix2"], features["prefix3"]) == ("#", "#O", "#Ob")
    assert (features["suffix1"], features["suffix2"], features["suffix3"]) == ("a", "ma", "ama")
    assert features["is_hashtag"] and not features["is_mention"] and not features["is_url"]
    assert features["is_title"]  # str.istitle skips the '#'
    assert not features["is_upper"] and not features["is_digit"]
    assert token_features("@bob")["is_mention"]
    assert token_features("http://bit.ly/bgCyZ0")["is_url"]
    assert token_features("www.example.com")["is_url"]
    assert token_features("2010")["is_digit"] and token_features("NBA")["is_upper"]
    assert token_features("Paris")["is_title"]
    assert not token_features("#")["is_hashtag"]  # a lone '#' is punctuation


def test_sentence_features_take_two_neighbours_each_side_and_mark_the_ends():
    features = sentence_features(["I", "love", "Paris", "!"])
    assert len(features) == 4
    first, third, last = features[0], features[2], features[3]
    assert first["BOS"] and "EOS" not in first and "-1:lower" not in first
    assert first["+1:lower"] == "love" and first["+2:lower"] == "paris"
    assert third["lower"] == "paris" and third["-2:lower"] == "i" and third["+1:lower"] == "!"
    assert "+2:lower" not in third
    assert third["-1:suffix3"] == "ove" and third["+1:shape"] == "!"
    assert last["EOS"] and "BOS" not in last
    assert features[1]["bias"] == 1.0
    # own features, plus 16 for each neighbour present
    assert len(third) == 1 + 15 + 3 * 15


def test_the_crf_learns_a_context_rule_perfectly_on_unseen_names():
    train_tokens, train_tags = synthetic(120, seed=0)
    test_tokens, test_tags = synthetic(40, seed=1)
    unseen = {s[3] for s in test_tokens} - {s[3] for s in train_tokens}
    assert len(unseen) > 10  # most test names never appear in training
    tagger = FeatureCRFTagger(c1=0.05, c2=0.01).fit(train_tokens, train_tags)
    predicted = tagger.predict(test_tokens)
    assert entity_scores(test_tags, predicted) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert predicted[0] == list(test_tags[0])


def test_the_most_frequent_tag_baseline():
    tagger = MostFrequentTagger(
        [("Ann", "met", "Bob"), ("Ann", "left"), ("Ann", "saw")],
        [("B-per", "O", "B-per"), ("O", "O"), ("B-per", "O")],
    )
    # "Ann" is B-per twice, O once; unknown words get the commonest tag: O
    assert tagger.predict([("Ann", "met", "Zed"), ("ann",)]) == [["B-per", "O", "O"], ["O"]]


def test_the_regularization_is_chosen_on_validation():
    train_tokens, train_tags = synthetic(60, seed=2)
    validation_tokens, validation_tags = synthetic(20, seed=3)
    # c1=50 zeroes almost every weight: the tagger can only say O
    tagger, chosen = tuned_feature_crf(
        train_tokens,
        train_tags,
        validation_tokens,
        validation_tags,
        c1_grid=(50.0, 0.05),
        c2_grid=(0.01,),
        max_iterations=50,
    )
    assert chosen == {"c1": 0.05, "c2": 0.01, "validation_f1": 1.0}
    assert tagger.c1 == 0.05


@pytest.mark.parametrize(
    ("true", "predicted"),
    [
        # an I- without a B- starts an entity (seqeval's default, as conlleval)
        ([["O", "I-PER", "I-PER", "O"]], [["O", "B-PER", "I-PER", "O"]]),
        # an I- of another type after B- starts a new entity
        ([["B-PER", "I-LOC", "O"]], [["B-PER", "I-PER", "O"]]),
        # entities to the sentence's end, and B-B of the same type
        ([["B-ORG", "B-ORG", "I-ORG"]], [["B-ORG", "I-ORG", "I-ORG"]]),
        ([["O", "O"], ["B-X", "O"]], [["O", "O"], ["O", "O"]]),
    ],
)
def test_entity_scores_are_seqeval_s(true, predicted):
    ours = entity_scores(true, predicted)
    assert ours["precision"] == pytest.approx(precision_score(true, predicted, zero_division=0))
    assert ours["recall"] == pytest.approx(recall_score(true, predicted, zero_division=0))
    assert ours["f1"] == pytest.approx(f1_score(true, predicted, zero_division=0))


def test_entity_scores_by_hand():
    # true: PER(1-2) by I-I, LOC(4); predicted: PER(1-2) by B-I (same span: right), ORG(4)
    true = [["O", "I-PER", "I-PER", "O", "B-LOC"]]
    predicted = [["O", "B-PER", "I-PER", "O", "B-ORG"]]
    assert entity_scores(true, predicted) == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert entity_scores([["O"]], [["O"]]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="Received c1=-1"):
        FeatureCRFTagger(c1=-1)
    with pytest.raises(ValueError, match="Received max_iterations=0"):
        FeatureCRFTagger(max_iterations=0)
    with pytest.raises(ValueError, match="Sentence 0 has 2 tokens but 1 tags"):
        FeatureCRFTagger().fit([("a", "b")], [("O",)])
    with pytest.raises(ValueError, match="2 sentences and 1 tag sequences"):
        MostFrequentTagger([("a",), ("b",)], [("O",)])
    with pytest.raises(RuntimeError, match="fit"):
        FeatureCRFTagger().predict([("a",)])
