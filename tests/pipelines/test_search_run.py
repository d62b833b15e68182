"""``convseq search``, ``convseq recommend`` and ``mlflow models serve`` on a search run.

One search run is trained on a small image folder (three Fashion-MNIST
classes as PNG files) and registered; the commands and the scoring server
then answer neighbour queries against its catalog.
"""

import json

import mlflow
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from data import load_dataset
from pipelines.cli import main
from pipelines.config import TrainConfig
from pipelines.search_run import RecommendConfig, SearchConfig, parse_item_ids
from pipelines.train import train
from pipelines.vector_index import load_index
from tests.pipelines.test_serving import _post, _serve, _stop

CLASSES = {1: "Trouser", 8: "Bag", 7: "Sneaker"}


@pytest.fixture
def image_folder(tmp_path, fashion_mnist_dir):
    _, splits = load_dataset("fashion_mnist")
    images, labels = splits["train"].images, splits["train"].labels
    root = tmp_path / "catalog"
    for label, name in CLASSES.items():
        (root / name).mkdir(parents=True)
        for n, position in enumerate(np.flatnonzero(labels == label)[:20]):
            Image.fromarray(images[position][..., 0]).save(root / name / f"{n:02d}.png")
    return root


@pytest.fixture
def search_run(mlflow_store, tmp_path, image_folder):
    config = TrainConfig(
        task="search",
        data_dir=str(image_folder),
        image_size=28,
        epochs=3,
        batch_size=24,
        registered_model_name="lookalikes",
        export_dir=str(tmp_path / "exports"),
    )
    return train(config)


def lines_of(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow  # trains a model and starts a scoring server
@pytest.mark.integration
def test_search_recommend_and_the_scoring_server_answer_neighbour_queries(
    search_run, image_folder, tmp_path, mlflow_store, capsys
):
    run_id = search_run.run_id
    queries = sorted((image_folder / "Trouser").glob("*.png"))
    output = tmp_path / "found.jsonl"
    argv = ["search", "--run", run_id, "--images", str(image_folder / "Trouser"), "--top_k", "5"]
    assert main([*argv, "--output", str(output)]) == 0
    rows = lines_of(output)
    assert [row["query"] for row in rows] == [str(path) for path in queries]
    labels = [result["label"] for row in rows for result in row["results"]]
    assert len(labels) == 5 * len(queries)
    assert labels.count("Trouser") / len(labels) >= 0.8  # three very different classes
    for row in rows:
        scores = [result["score"] for result in row["results"]]
        assert scores == sorted(scores, reverse=True)
        assert [result["rank"] for result in row["results"]] == [1, 2, 3, 4, 5]
    # The search SavedModel (exact, catalog inside) finds the same items as the logged index.
    loaded = tf.saved_model.load(str(search_run.export_path))
    served = loaded.search_image_bytes(
        tf.constant([path.read_bytes() for path in queries]), tf.constant(5)
    )
    found = np.array([[result["item_id"] for result in row["results"]] for row in rows])
    np.testing.assert_array_equal(found, served["item_ids"].numpy())

    # "more like this item": the nearest other items, by the index's own vectors.
    assert main(["recommend", "--run", run_id, "--item", "0,7", "--top_k", "4",
                 "--output", str(tmp_path / "more.jsonl")]) == 0  # fmt: skip
    index = load_index(
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="index"), model=run_id
    )
    vectors = index.vectors_of(index.ids)
    for row in lines_of(tmp_path / "more.jsonl"):
        similarity = vectors @ index.vectors_of([row["item"]])[0]
        order = [int(index.ids[i]) for i in np.argsort(-similarity, kind="stable")]
        expected = [item for item in order if item != row["item"]][:4]
        assert [result["item_id"] for result in row["results"]] == expected

    # Bad inputs: exit 2 with the value named, no traceback, no output written.
    capsys.readouterr()
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image")
    assert main(["search", "--run", run_id, "--images", str(bad),
                 "--output", str(tmp_path / "none.jsonl")]) == 2  # fmt: skip
    assert "broken.png' cannot be decoded" in capsys.readouterr().err
    assert main([*argv[:-1], "500", "--output", str(tmp_path / "none.jsonl")]) == 2
    assert "at most the 48 catalog items" in capsys.readouterr().err
    assert main(["recommend", "--run", run_id, "--item", "4000"]) == 2
    assert "Items [4000] are not in the catalog" in capsys.readouterr().err
    assert main(["recommend", "--run", "0123abcd", "--item", "1"]) == 2
    assert "No run '0123abcd'" in capsys.readouterr().err
    assert not (tmp_path / "none.jsonl").exists()

    # mlflow models serve answers with the registered search model.
    images = np.stack([np.asarray(Image.open(path).convert("RGB")) for path in queries[:3]])
    expected = loaded.serve(tf.constant(images))
    process, port = _serve("models:/lookalikes/1", mlflow_store)
    try:
        status, body = _post(port, {"inputs": images.tolist()})
        assert status == 200
        assert body["predictions"]["item_ids"] == expected["item_ids"].numpy().tolist()
        np.testing.assert_allclose(body["predictions"]["scores"], expected["scores"], atol=1e-5)
    finally:
        _stop(process)


def test_search_and_recommend_options_are_checked():
    assert parse_item_ids("17, 42") == (17, 42)
    with pytest.raises(ValueError, match="Received item='x'"):
        parse_item_ids("x")
    with pytest.raises(ValueError, match="Received item='1.5'"):
        parse_item_ids("1.5")
    assert parse_item_ids([3.0, 4]) == (3, 4)
    with pytest.raises(ValueError, match="run_id"):
        SearchConfig(images="folder")
    with pytest.raises(ValueError, match="images"):
        SearchConfig(run_id="abc")
    with pytest.raises(ValueError, match="top_k"):
        SearchConfig(run_id="abc", images="x", top_k=0)
    with pytest.raises(ValueError, match="item"):
        RecommendConfig(run_id="abc")
    assert RecommendConfig(run_id="abc", item="3").item == (3,)
