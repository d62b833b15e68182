import time

import pytest

from models import pretrained, vgg16
from models.pretrained import (
    VGG16_IMAGENET_NO_TOP,
    PretrainedWeights,
    WeightsUnavailableError,
    file_md5,
    pretrained_weights_path,
)


def test_missing_imagenet_weights_fail_fast_naming_file_md5_and_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained, "host_reachable", lambda host: False)
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as error:
        vgg16(weights="imagenet", include_top=False, weights_cache_dir=tmp_path)
    assert time.monotonic() - start < 5
    message = str(error.value)
    assert VGG16_IMAGENET_NO_TOP.file_name in message
    assert VGG16_IMAGENET_NO_TOP.md5 in message
    assert str(tmp_path / "models") in message and "$KERAS_HOME/models/" in message


def test_cached_file_is_verified_by_md5(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "w.h5").write_bytes(b"weights")
    good = PretrainedWeights("w.h5", "https://example.invalid/w.h5", file_md5(folder / "w.h5"))
    assert pretrained_weights_path(good, tmp_path, probe=lambda host: False) == folder / "w.h5"
    bad = PretrainedWeights("w.h5", good.url, "0" * 32)
    with pytest.raises(WeightsUnavailableError, match="corrupt or incomplete"):
        pretrained_weights_path(bad, tmp_path, probe=lambda host: False)


def test_imagenet_top_needs_1000_classes():
    with pytest.raises(ValueError, match="Received classes=10"):
        vgg16(weights="imagenet", classes=10)
