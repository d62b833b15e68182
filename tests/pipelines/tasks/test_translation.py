import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from pipelines.config import TrainConfig
from pipelines.generation import standardize
from pipelines.tasks.translation import load_parallel_data
from pipelines.train import train


def test_translation_trains_logs_samples_and_serves_raw_strings(
    mlflow_store, tmp_path, serve_in_fresh_process
):
    # a small generated task: reverse three-letter words, one pair per line
    rng = np.random.default_rng(0)
    letters = list("abcdef")
    lines = []
    for _ in range(600):
        word = rng.choice(letters, size=rng.integers(2, 5))
        lines.append(f"{' '.join(word)}\t{' '.join(word[::-1])}")
    path = tmp_path / "reverse.txt"
    path.write_text("\n".join(lines) + "\nno tab line\n\n", encoding="utf-8")
    config = TrainConfig(
        task="translation",
        dataset=str(path),
        epochs=12,
        units=32,
        embedding_dim=16,
        cell="gru",
        learning_rate=1e-2,
        beam_width=2,
        seed=1,
        export_dir=str(tmp_path / "exports"),
    )
    result = train(config)
    client = MlflowClient(mlflow_store)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["test_exact_match"] >= 0.9
    assert run.data.metrics["test_bleu"] >= 0.8
    assert int(run.data.params["train_pairs"]) == 480
    samples = [a.path for a in client.list_artifacts(result.run_id, "samples")]
    assert samples == [f"samples/epoch_{e:03d}.txt" for e in range(1, 13)]
    text = (tmp_path / "artifacts").rglob("epoch_012.txt").__next__().read_text()
    assert text.count("prediction:") == 5

    served = serve_in_fresh_process(
        result.export_path, np.array(["a b c", "f e d c", ""]), signature_input="texts"
    )
    assert served["text"][:2].tolist() == [b"c b a", b"c d e f"]
    assert served["token_ids"].shape[0] == 3


def test_number_words_hold_out_unseen_numbers():
    data = load_parallel_data(TrainConfig(task="translation"))
    assert (len(data.train), len(data.validation), len(data.test)) == (9600, 1200, 1200)
    assert not set(data.test.sources) & set(data.train.sources)
    assert data.test.targets[0].split()[0] in {
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "zero",
    }


def test_standardize_keeps_start_and_end_tokens():
    assert standardize("[start] ¿Qué Tal? [end]").numpy().decode() == "[start] qué tal [end]"


def test_bad_translation_inputs_are_named(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text("no tab\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no source<TAB>target line"):
        load_parallel_data(TrainConfig(task="translation", dataset=str(path)))
    with pytest.raises(ValueError, match="Task translation takes lstm or gru"):
        TrainConfig(task="translation", cell="simple_rnn")
    with pytest.raises(ValueError, match="Received attention='dot'"):
        TrainConfig(task="translation", attention="dot")


def test_a_tfds_translation_dataset_reads_its_supervised_keys():
    import tensorflow as tf
    import tensorflow_datasets as tfds

    def as_dataset(self, split, **kwargs):
        return tf.data.Dataset.from_tensor_slices(
            {"pt": ["olá mundo", "bom dia", ""], "en": ["hello world", "good morning", "x"]}
        )

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        data = load_parallel_data(
            TrainConfig(task="translation", dataset="tfds:ted_hrlr_translate/pt_to_en")
        )
    assert data.name == "ted_hrlr_translate_pt_to_en"
    assert data.test.sources.tolist() == ["olá mundo", "bom dia"]  # the empty pair is dropped
    assert data.test.targets.tolist() == ["hello world", "good morning"]
