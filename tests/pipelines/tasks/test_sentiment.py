import time

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from data import DataLocations, DatasetUnavailableError
from data.splits_types import DatasetSplits, TextSplit
from data.text import text_key
from models.layers import Conv1D
from pipelines.config import TrainConfig
from pipelines.tasks.sentiment import adapt_vectorizer, load_text_data
from pipelines.train import train


def write_reviews(path, rows):
    path.write_text("text,label\n" + "".join(f'"{t}",{y}\n' for t, y in rows), encoding="utf-8")
    return path


def synthetic_reviews(n, seed=0):
    rng = np.random.default_rng(seed)
    good, bad, filler = (
        ["great", "superb", "moving"],
        ["dull", "awful", "boring"],
        ["film", "plot", "cast", "the", "a"],
    )
    rows = []
    for i in range(n):
        label = i % 2
        words = list(rng.choice(filler, 5)) + [rng.choice(good if label else bad)]
        rng.shuffle(words)
        rows.append((" ".join(words), "pos" if label else "neg"))
    return rows


def train_on_reviews(mlflow_store, tmp_path, **options):
    """Trains on 400 generated reviews with ``options``; returns the result and its MLflow run.

    The run must finish and find the one keyword that decides each label.
    """
    path = write_reviews(tmp_path / "reviews.csv", synthetic_reviews(400))
    config = TrainConfig(
        task="sentiment",
        dataset=str(path),
        epochs=8,
        batch_size=32,
        learning_rate=1e-2,
        embedding_dim=16,
        sequence_length=8,
        seed=3,
        export_dir=str(tmp_path / "exports"),
        **options,
    )
    result = train(config)
    run = MlflowClient(mlflow_store).get_run(result.run_id)
    assert run.info.status == "FINISHED"
    # One keyword decides the label: every encoder must find it.
    assert run.data.metrics["test_accuracy"] >= 0.9
    return result, run


def test_sentiment_trains_logs_and_serves_raw_strings(
    mlflow_store, tmp_path, serve_in_fresh_process
):
    result, run = train_on_reviews(mlflow_store, tmp_path)
    params = run.data.params
    assert (params["task"], params["encoder"], params["ngrams"]) == ("sentiment", "cnn", "3")
    # One of the 400 generated reviews repeats an earlier one and is left out: 399 split 80/10/10.
    assert int(params["train_examples"]) == 319
    assert int(params["test_examples"]) == 40
    assert result.export_path == tmp_path / "exports" / "reviews_cnn_3grams" / "1"

    texts = np.array(["a superb film", "the plot was dull", "", "boring boring cast"])
    served = serve_in_fresh_process(result.export_path, texts, signature_input="texts")
    assert served["probabilities"].shape == (4, 2)
    np.testing.assert_allclose(served["probabilities"].sum(axis=1), 1.0, rtol=1e-6)
    assert served["class_name"][[0, 1, 3]].tolist() == [b"pos", b"neg", b"neg"]
    assert np.isfinite(served["probabilities"][2]).all()  # empty text still gets an answer


def test_vectorizer_sees_only_training_texts():
    data = DatasetSplits(
        "toy",
        TextSplit(np.array(["good film", "bad film"], dtype=object), np.array([1, 0])),
        TextSplit(np.array(["validationword"], dtype=object), np.array([1])),
        TextSplit(np.array(["testword film"], dtype=object), np.array([0])),
        class_names=("neg", "pos"),
    )
    vectorizer = adapt_vectorizer(TrainConfig(task="sentiment", sequence_length=3), data)
    assert set(vectorizer.get_vocabulary()) == {"", "[UNK]", "good", "bad", "film"}
    np.testing.assert_array_equal(vectorizer(["testword film"]).numpy(), [[1, 2, 0]])


def test_rotten_tomatoes_split_is_fixed_and_disjoint():
    config = TrainConfig(task="sentiment")
    data = load_text_data(config)
    # 12,749 distinct snippets: the file's 59 repeated ones (up to case, punctuation and
    # spacing) are left out before the split.
    assert (len(data.train), len(data.validation), len(data.test)) == (10199, 1275, 1275)
    assert data.class_names == ("rotten", "fresh")
    again = load_text_data(TrainConfig(task="sentiment", seed=7))
    np.testing.assert_array_equal(again.test.texts, data.test.texts)
    train, validation, test = (
        set(map(text_key, s.texts)) for s in (data.train, data.validation, data.test)
    )
    assert len(train | validation | test) == len(train) + len(validation) + len(test) == 12749


def test_bad_text_data_is_named(tmp_path):
    one_class = write_reviews(tmp_path / "one.csv", [("good", "pos"), ("fine", "pos")] * 20)
    with pytest.raises(ValueError, match="label column 'label' .* has only one class"):
        load_text_data(TrainConfig(task="sentiment", dataset=str(one_class)))
    other_columns = tmp_path / "other.csv"
    other_columns.write_text("review,stars\ngood,5\n")
    with pytest.raises(ValueError, match=r"no column 'text', 'label'; its header is \['review'"):
        load_text_data(TrainConfig(task="sentiment", dataset=str(other_columns)))
    with pytest.raises(ValueError, match="'sunspots' is a time_series dataset.*rotten_tomatoes"):
        load_text_data(TrainConfig(task="sentiment", dataset="sunspots"))
    with pytest.raises(ValueError, match="neither a catalog dataset nor an existing file"):
        load_text_data(TrainConfig(task="sentiment", dataset=str(tmp_path / "missing.csv")))


def test_tfds_text_dataset_reads_labels_and_names():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=30):
        data = load_text_data(TrainConfig(task="sentiment", dataset="tfds:imdb_reviews"))
    assert data.class_names == ("neg", "pos")
    assert (len(data.train), len(data.validation), len(data.test)) == (27, 3, 30)
    assert all(isinstance(text, str) for text in data.test.texts)


def test_unprepared_tfds_dataset_offline_fails_fast_with_the_remedy(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    locations = DataLocations(probe=lambda host: False)
    start = time.perf_counter()
    with pytest.raises(DatasetUnavailableError, match=r"tfds build imdb_reviews.*TFDS_DATA_DIR"):
        load_text_data(TrainConfig(task="sentiment", dataset="tfds:imdb_reviews"), locations)
    assert time.perf_counter() - start < 5


@pytest.mark.slow  # about 25 s on 2 cores: make test-slow
def test_sentiment_trains_with_a_conv_front(mlflow_store, tmp_path):
    # Trained to the same accuracy: the conv front passes the keyword on to the LSTM.
    result, run = train_on_reviews(
        mlflow_store,
        tmp_path,
        encoder="rnn",
        units=16,
        ngrams=0,
        conv_filters=8,
        conv_kernel_size=3,
    )
    params = run.data.params
    assert (params["conv_filters"], params["conv_kernel_size"]) == ("8", "3")
    assert result.export_path == tmp_path / "exports" / "reviews_conv_lstm" / "1"
    # embedding 16 wide -> 8 filters of 3 steps -> LSTM of 16 units reading 8 features; the
    # logged end-to-end model (texts in) nests the classifier under its own name
    logged = mlflow.keras.load_model(f"runs:/{result.run_id}/model")
    classifier = logged.get_layer("reviews_conv_lstm")
    assert "ngram_logits" not in [layer.name for layer in classifier.layers]
    (conv,) = [layer for layer in classifier.layers if isinstance(layer, Conv1D)]
    assert (conv.filters, conv.kernel_size, conv.padding) == (8, (3,), "same")
    assert conv.kernel.shape == (3, 16, 8)


def test_conv_kernel_size_without_conv_filters_is_refused():
    with pytest.raises(ValueError, match=r"conv_filters=0 leaves out.*conv_kernel_size=5"):
        TrainConfig(task="sentiment", encoder="rnn", conv_kernel_size=5)
    with pytest.raises(ValueError, match=r"Received conv_filters=-1"):
        TrainConfig(task="sentiment", conv_filters=-1)
    config = TrainConfig(task="sentiment", encoder="rnn", conv_filters=4, conv_kernel_size=5)
    assert config.conv_spec().enabled


def test_options_of_the_encoder_not_chosen_are_refused():
    with pytest.raises(
        ValueError, match=r"cell='gru', units=32 shape the rnn encoder.*encoder=rnn"
    ):
        TrainConfig(task="sentiment", cell="gru", units=32)
    with pytest.raises(ValueError, match=r"cnn_kernel_sizes=\(2, 3\) shape the cnn encoder"):
        TrainConfig(task="sentiment", encoder="rnn", cnn_kernel_sizes="2,3")
    with pytest.raises(
        ValueError, match=r"Expected one of \['cnn', 'rnn'\]. Received encoder='mlp'"
    ):
        TrainConfig(task="sentiment", encoder="mlp")
    with pytest.raises(ValueError, match=r"positive integers.*Received cnn_kernel_sizes='3,0'"):
        TrainConfig(task="sentiment", cnn_kernel_sizes="3,0")
    config = TrainConfig(task="sentiment", cnn_kernel_sizes="2, 4", ngrams=0)
    assert (config.encoder, config.cnn_kernel_sizes, config.ngrams) == ("cnn", (2, 4), 0)
