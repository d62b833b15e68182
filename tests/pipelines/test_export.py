import hashlib
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from models import small_cnn
from pipelines.export import export_image_classifier
from pipelines.export_versions import existing_versions

CLASS_NAMES = [f"class_{i}" for i in range(10)]


def tree_digest(folder):
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return small_cnn(input_shape=(8, 8, 1), filters=(4,), dense_units=8, name="tiny_cnn")


def test_exported_model_serves_raw_uint8_without_convseq(model, tmp_path, serve_in_fresh_process):
    path = export_image_classifier(model, tmp_path / "exports", model.name, CLASS_NAMES)
    assert path == tmp_path / "exports" / "tiny_cnn" / "1"
    images = np.random.default_rng(0).integers(0, 256, size=(7, 8, 8, 1), dtype=np.uint8)
    served = serve_in_fresh_process(path, images, signature_input="images")
    expected = keras.ops.convert_to_numpy(model(images, training=False))
    np.testing.assert_allclose(served["probabilities"], expected, atol=1e-5)
    np.testing.assert_array_equal(served["class_id"], expected.argmax(-1))
    assert [name.decode() for name in served["class_name"]] == [
        CLASS_NAMES[i] for i in expected.argmax(-1)
    ]


def test_second_export_is_version_2_and_leaves_version_1_untouched(model, tmp_path):
    first = export_image_classifier(model, tmp_path, "m", CLASS_NAMES)
    before = tree_digest(first)
    second = export_image_classifier(model, tmp_path, "m", CLASS_NAMES)
    assert (first.name, second.name) == ("1", "2")
    assert tree_digest(first) == before
    assert existing_versions(tmp_path / "m") == [1, 2]
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["1", "2"]


def test_interrupted_export_leaves_no_partial_version(model, tmp_path, monkeypatch):
    export_image_classifier(model, tmp_path, "m", CLASS_NAMES)

    def crash(obj, export_dir, *args, **kwargs):
        os.makedirs(export_dir)
        with open(os.path.join(export_dir, "saved_model.pb"), "wb") as handle:
            handle.write(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(tf.saved_model, "save", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        export_image_classifier(model, tmp_path, "m", CLASS_NAMES)
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["1"]


def test_class_names_must_match_outputs(model, tmp_path):
    with pytest.raises(ValueError, match="predicts 10 classes but 2 class names"):
        export_image_classifier(model, tmp_path, "m", ["a", "b"])


def test_encoded_images_signature_decodes_and_resizes_in_the_graph(model, tmp_path):
    path = export_image_classifier(model, tmp_path, "m", CLASS_NAMES)
    loaded = tf.saved_model.load(str(path))
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(3, 8, 8, 1), dtype=np.uint8)
    encoded = [tf.io.encode_png(image).numpy() for image in images]
    by_bytes = loaded.signatures["serve_image_bytes"](image_bytes=tf.constant(encoded))
    by_array = loaded.serve(tf.constant(images))
    np.testing.assert_allclose(by_bytes["probabilities"], by_array["probabilities"], atol=1e-6)
    # A larger JPEG is resized to 8x8 inside, as tf.image.resize would.
    big = rng.integers(0, 256, size=(16, 16, 1), dtype=np.uint8)
    resized = tf.cast(tf.round(tf.image.resize(big, (8, 8))), tf.uint8)[None]
    out = loaded.signatures["serve_image_bytes"](
        image_bytes=tf.constant([tf.io.encode_png(big).numpy()])
    )
    np.testing.assert_allclose(
        out["probabilities"], loaded.serve(resized)["probabilities"], atol=1e-6
    )


def test_any_size_model_runs_encoded_images_one_by_one(tmp_path):
    inputs = keras.Input((None, None, 1), dtype="uint8")
    x = keras.layers.Resizing(6, 6)(keras.ops.cast(inputs, "float32"))
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x))
    any_size = keras.Model(inputs, outputs)
    path = export_image_classifier(any_size, tmp_path, "any", ["a", "b", "c"])
    loaded = tf.saved_model.load(str(path))
    small, large = np.full((5, 7, 1), 30, np.uint8), np.full((20, 11, 1), 200, np.uint8)
    out = loaded.signatures["serve_image_bytes"](
        image_bytes=tf.constant([tf.io.encode_png(small).numpy(), tf.io.encode_png(large).numpy()])
    )
    expected = [keras.ops.convert_to_numpy(any_size(img[None]))[0] for img in (small, large)]
    np.testing.assert_allclose(out["probabilities"], np.stack(expected), atol=1e-6)


def test_export_holds_metadata_and_labels(model, tmp_path):
    path = export_image_classifier(model, tmp_path, "m", CLASS_NAMES)
    metadata = json.loads((path / "assets.extra" / "metadata.json").read_text())
    assert metadata["model_name"] == "m" and metadata["labels"] == CLASS_NAMES
    assert metadata["serving_default"] == "serve"
    assert metadata["signatures"]["serve"]["inputs"] == {
        "images": {"dtype": "uint8", "shape": [None, 8, 8, 1]}
    }
    assert metadata["signatures"]["serve_image_bytes"]["inputs"]["image_bytes"]["dtype"] == "string"
    assert metadata["signatures"]["serve"]["outputs"]["class_name"] == {
        "dtype": "string",
        "shape": [None],
    }
    assert metadata["training_run_id"] is None  # exported outside an MLflow run
    labels = (path / "assets.extra" / "labels.txt").read_text().splitlines()
    assert labels == CLASS_NAMES


def test_saved_model_cli_lists_the_named_signatures(model, tmp_path):
    path = export_image_classifier(model, tmp_path, "m", CLASS_NAMES)
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run(
        [cli, "show", "--dir", str(path), "--all"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        "signature_def['serving_default']",
        "signature_def['serve']",
        "signature_def['serve_image_bytes']",
        "dtype: DT_UINT8",
        "dtype: DT_STRING",
        "outputs['class_name']",
    ):
        assert expected in shown
