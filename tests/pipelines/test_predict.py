"""Batch prediction on a tiny exported CNN: skipped images, config parsing, light imports."""

import csv
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from models import small_cnn
from pipelines.export import export_image_classifier
from pipelines.predict import PredictConfig, predict

REPO_ROOT = Path(__file__).resolve().parents[2]
CLASS_NAMES = [f"class_{i}" for i in range(4)]


@pytest.fixture(scope="module")
def export_path(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = small_cnn(input_shape=(8, 8, 1), filters=(4,), dense_units=8, classes=4, name="tiny")
    return export_image_classifier(model, tmp_path_factory.mktemp("exports"), "tiny", CLASS_NAMES)


def rows_of(path):
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_unreadable_images_are_skipped_and_named_the_others_predicted(export_path, tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(5, 8, 8, 1), dtype=np.uint8)
    folder = tmp_path / "images"
    folder.mkdir()
    for index, image in enumerate(images):
        (folder / f"img_{index}.png").write_bytes(tf.io.encode_png(image).numpy())
    # Sorted between good files, so each would share a batch of 2 with a good image.
    (folder / "img_1_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (folder / "img_3_empty.jpg").write_bytes(b"")
    output = tmp_path / "predictions.csv"
    config = PredictConfig(
        model=str(export_path), input=str(folder), output=str(output), batch_size="2"
    )
    with pytest.warns(UserWarning, match=r"Skipped 2 file\(s\)") as record:
        assert predict(config) == output
    skipped = [w for w in record if "Skipped" in str(w.message)]
    assert len(skipped) == 1
    assert "img_1_corrupt.png, img_3_empty.jpg." in str(skipped[0].message)
    rows = rows_of(output)
    assert [row["input"] for row in rows] == [f"img_{i}.png" for i in range(5)]
    loaded = tf.saved_model.load(str(export_path))
    expected = loaded.serve(tf.constant(images))
    assert [int(row["class_id"]) for row in rows] == expected["class_id"].numpy().tolist()
    probabilities = [[float(row[f"probabilities_{name}"]) for name in CLASS_NAMES] for row in rows]
    np.testing.assert_allclose(probabilities, expected["probabilities"].numpy(), atol=1e-6)


def test_a_folder_of_only_unreadable_images_is_an_error_and_writes_nothing(export_path, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"not a png")
    (folder / "b.gif").write_bytes(b"GIF89a")
    output = tmp_path / "out.csv"
    config = PredictConfig(model=str(export_path), input=str(folder), output=str(output))
    with pytest.raises(
        ValueError, match=r"None of the 2 image files .* can be decoded, e.g. 'a.png'"
    ):
        predict(config)
    assert not output.exists()


def test_predict_config_parses_strings_once_and_names_bad_values():
    config = PredictConfig(model="m", input="i", batch_size="16")
    assert config.batch_size == 16 and isinstance(config.batch_size, int)
    with pytest.raises(ValueError, match=r"`batch_size`\. Expected an integer\. .*'many'"):
        PredictConfig(model="m", input="i", batch_size="many")
    with pytest.raises(ValueError, match="Expected a positive integer. Received batch_size=0"):
        PredictConfig(model="m", input="i", batch_size=0)
    with pytest.raises(ValueError, match="Received model=''"):
        PredictConfig(input="i")


@pytest.mark.parametrize(
    "statement",
    [
        "from pipelines.predict import PredictConfig",
        "from pipelines.export_run import ExportConfig",
    ],
)
def test_config_classes_import_without_tensorflow_keras_or_mlflow(statement):
    script = (
        f"import sys\n{statement}\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'mlflow'))\n"
        "print(len(heavy), heavy[:5])\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert completed.stdout.strip() == "0 []", completed.stdout
