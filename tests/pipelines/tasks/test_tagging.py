import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from data.splits_types import TaggedSplit
from pipelines.best_epoch import BestEpoch
from pipelines.config import TrainConfig
from pipelines.tasks.tagging import (
    build_encoder,
    build_model,
    encoded_tagged_data,
    load_tagged_data,
    tag_vocabulary,
)
from pipelines.train import train


def write_conll(path, sentences):
    path.write_text(
        "\n\n".join("\n".join(f"{t}\t{g}" for t, g in s) for s in sentences) + "\n",
        encoding="utf-8",
    )
    return path


def synthetic_sentences(n, seed=0):
    """People's names (capitalized, after 'met') and cities (after 'in') among filler words."""
    rng = np.random.default_rng(seed)
    names, cities = ["Ann", "Bob", "Cleo", "Dan"], ["Oslo", "Rome", "Lima"]
    filler = ["we", "saw", "a", "dog", "today", "then", "left"]
    sentences = []
    for _ in range(n):
        words = [(w, "O") for w in rng.choice(filler, 3)]
        words += [("met", "O"), (rng.choice(names), "B-person"), ("Smith", "I-person")]
        words += [("in", "O"), (rng.choice(cities), "B-geo-loc")]
        words += [(w, "O") for w in rng.choice(filler, 2)]
        sentences.append(words)
    return sentences


@pytest.mark.parametrize("output", ["crf", pytest.param("softmax", marks=pytest.mark.slow)])
def test_tagger_trains_beats_the_baseline_and_serves_raw_sentences(
    output, mlflow_store, tmp_path, serve_in_fresh_process
):
    path = write_conll(tmp_path / "ner.conll", synthetic_sentences(300))
    config = TrainConfig(
        task="tagging",
        dataset=str(path),
        epochs=6,
        batch_size=16,
        learning_rate=1e-2,
        units=16,
        embedding_dim=16,
        output=output,
        seed=5,
        export_dir=str(tmp_path / "exports"),
    )
    result = train(config)
    client = MlflowClient(mlflow_store)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    assert metrics["test_entity_f1"] >= 0.95
    assert metrics["test_token_accuracy"] >= 0.98
    # "Smith" is always I-person: the per-word baseline gets tokens right but
    # every span is exact only when the name before it is tagged B-person too.
    assert 0 < metrics["baseline_entity_f1"] <= metrics["test_entity_f1"]
    assert int(run.data.params["tags"]) == 4
    assert int(run.data.params["train_sentences"]) == 240
    # validation entity F1 after every epoch; the best epoch's weights are the ones kept
    history = client.get_metric_history(result.run_id, "val_entity_f1")
    assert [m.step for m in history] == list(range(6))
    best = max(range(6), key=lambda step: (history[step].value, -step))
    assert int(run.data.params["best_epoch"]) == best

    sentences = np.array(["we met Cleo Smith in Lima", "Oslo", "met Zed Smith today"])
    served = serve_in_fresh_process(result.export_path, sentences, signature_input="sentences")
    assert served["lengths"].tolist() == [6, 1, 4]
    assert served["tags"][0].tolist() == [
        b"O",
        b"O",
        b"B-person",
        b"I-person",
        b"O",
        b"B-geo-loc",
    ]
    assert served["tags"][1, 1:].tolist() == [b""] * 5  # padding past the sentence
    assert (served["tag_ids"][1, 1:] == -1).all()
    assert served["tags"][2, 2].decode() == "I-person"


def test_the_tagger_is_bidirectional_without_being_asked():
    import keras

    config = TrainConfig(task="tagging", max_examples=60, layers=2, units=8)
    model = build_model(config, encoded_tagged_data(config))
    layers = model.scorer.layers  # the default tagger is a CRFTagger over a scorer
    wrapped = [layer for layer in layers if isinstance(layer, keras.layers.Bidirectional)]
    assert len(wrapped) == 2  # one per stacked layer, both ways


def test_the_output_option_picks_a_crf_or_a_softmax_and_the_encoder_follows_the_options():
    from models.layers import CRF
    from models.tagging import OUTPUTS as MODEL_OUTPUTS
    from pipelines.tasks.tagging import OUTPUTS

    assert sorted(OUTPUTS) == sorted(MODEL_OUTPUTS)
    config = TrainConfig(task="tagging", max_examples=60, units=8)
    tagged = encoded_tagged_data(config)
    assert sorted(tagged.encoded["train"][0]) == ["char_ids", "shape_ids", "word_ids"]
    crf = build_model(config, tagged)
    assert isinstance(crf.crf, CRF) and crf.loss is None  # trained on the CRF's likelihood
    assert crf.scorer.get_layer("embedding_dropout").rate == 0.5
    softmax = build_model(TrainConfig(task="tagging", max_examples=60, output="softmax"), tagged)
    assert softmax.get_layer("tag_probabilities").activation.__name__ == "softmax"
    assert softmax.name == "wnut16_bilstm_softmax_tagger"
    plain = TrainConfig(task="tagging", max_examples=60, word_shapes=False, char_features=False)
    assert sorted(encoded_tagged_data(plain).encoded["train"][0]) == ["word_ids"]


def test_the_weights_of_the_best_validation_f1_are_kept(monkeypatch):
    import pipelines.tasks.tagging as tagging

    config = TrainConfig(task="tagging", max_examples=60, units=4, output="softmax")
    tagged = encoded_tagged_data(config)
    model = build_model(config, tagged)
    truth = [list(tags) for tags in tagged.data.validation.tags]
    nothing = [["O"] * len(tags) for tags in truth]
    answers = iter([nothing, truth, nothing])  # epoch 1 is perfect, 0 and 2 find nothing
    monkeypatch.setattr(tagging, "_predict_tags", lambda *args: next(answers))
    callback = BestEpoch(tagging._validation_f1(model, tagged), "val_entity_f1")
    callback.set_model(model)
    snapshots = []
    for epoch in range(3):
        weights = [w + epoch for w in model.get_weights()]
        model.set_weights(weights)
        snapshots.append(weights)
        callback.on_epoch_end(epoch)
    callback.on_train_end()
    assert (callback.best, callback.best_epoch) == (1.0, 1)
    for kept, expected in zip(model.get_weights(), snapshots[1], strict=True):
        np.testing.assert_array_equal(kept, expected)


def test_vocabularies_come_from_the_training_split_only():
    train = TaggedSplit((("Ann", "ann", "met"), ("Bob", "met")), (("B", "B", "O"), ("B", "O")))
    encoder = build_encoder(TrainConfig(task="tagging"), train)
    # words seen at least twice (lower-cased): "ann" and "met"; "bob" is unknown
    ids = encoder(np.array(["ann met bob", "Zed"]))["word_ids"].numpy()
    assert encoder.vocabulary_size == 4
    assert ids[0].tolist() == [2, 3, 1] or ids[0].tolist() == [3, 2, 1]
    assert ids[1].tolist() == [1, 0, 0]
    assert tag_vocabulary(train) == ("O", "B")


def test_wnut16_splits_are_fixed_and_cover_every_sentence():
    data = load_tagged_data(TrainConfig(task="tagging"))
    assert len(data.train) + len(data.validation) + len(data.test) == 2394
    assert len(data.test) == 239
    again = load_tagged_data(TrainConfig(task="tagging", seed=9))
    assert again.test.tokens == data.test.tokens


def test_a_tfds_ner_dataset_reads_tokens_and_tag_names():
    import tensorflow_datasets as tfds

    def as_dataset(self, split, **kwargs):
        import tensorflow as tf

        tokens = tf.constant([["EU", "rejects", "German"], ["Peter", "Blackburn", "."]])
        ner = tf.constant([[3, 0, 7], [1, 2, 0]], tf.int64)
        return tf.data.Dataset.from_tensor_slices({"tokens": tokens, "ner": ner})

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        data = load_tagged_data(TrainConfig(task="tagging", dataset="tfds:conll2003"))
    # no dev split in the mock: validation is drawn from train
    held = dict(
        zip(data.train.tokens + data.validation.tokens, data.train.tags + data.validation.tags)
    )
    assert len(data.train) == len(data.validation) == 1
    assert held[("EU", "rejects", "German")] == ("B-ORG", "O", "B-MISC")
    assert data.test.tags[1] == ("B-PER", "I-PER", "O")


def test_bad_tagging_data_is_named(tmp_path):
    empty = tmp_path / "empty.conll"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="no tagged sentence"):
        load_tagged_data(TrainConfig(task="tagging", dataset=str(empty)))
    with pytest.raises(ValueError, match="'rotten_tomatoes' is a text_classification dataset"):
        load_tagged_data(TrainConfig(task="tagging", dataset="rotten_tomatoes"))
