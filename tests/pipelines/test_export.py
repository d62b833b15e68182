import hashlib
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from models import small_cnn
from pipelines.export import existing_versions, export_image_classifier

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
