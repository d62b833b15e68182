"""Pretrained weight files: find them offline, download only when the host answers.

A missing file fails within seconds with its name, MD5 and the folder to put
it in, instead of Keras's multi-minute download retries on an offline machine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from common.network import host_reachable


class WeightsUnavailableError(RuntimeError):
    """A pretrained weights file is neither cached nor downloadable."""


@dataclasses.dataclass(frozen=True)
class PretrainedWeights:
    """A published weights file: its name, where it is served, its MD5."""

    file_name: str
    url: str
    md5: str


_KERAS_APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"
VGG16_IMAGENET = PretrainedWeights(
    "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
    _KERAS_APPLICATIONS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
    "64373286793e3c8b2b4e3219cbf3544b",
)
VGG16_IMAGENET_NO_TOP = PretrainedWeights(
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    _KERAS_APPLICATIONS + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "6d6bbae143d832006294945121d1f1fc",
)


def file_md5(path: str | os.PathLike) -> str:
    """MD5 hex digest of a file, read in chunks."""
    digest = hashlib.md5()  # noqa: S324 - a checksum, as published by Keras
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pretrained_weights_path(
    weights: PretrainedWeights,
    keras_home: str | os.PathLike | None = None,
    probe: Callable[[str], bool] | None = None,
) -> Path:
    """The local path of a pretrained weights file, downloading it only if online.

    Args:
        weights: The file wanted.
        keras_home: Keras's cache folder (``$KERAS_HOME``; default ``~/.keras``);
            the file lives in its ``models/`` subfolder, as Keras keeps it.
        probe: ``(host) -> bool``: whether the download host answers;
            default `common.network.host_reachable` (2-second timeout).

    Returns:
        The path of the verified file.

    Raises:
        WeightsUnavailableError: If the file is missing and the host does not
            answer, or if a cached file has the wrong MD5; the message names
            the file, its MD5, its URL and the folder to put it in.
    """
    folder = Path(keras_home or Path("~/.keras").expanduser()) / "models"
    path = folder / weights.file_name
    how = (
        f"Download {weights.url} where there is internet, check that its MD5 is "
        f"{weights.md5}, and copy it to {folder}/ ($KERAS_HOME/models/)."
    )
    if path.is_file():
        actual = file_md5(path)
        if actual != weights.md5:
            raise WeightsUnavailableError(
                f"{path} has MD5 {actual}, expected {weights.md5}: the file is corrupt or "
                f"incomplete. {how}"
            )
        return path
    host = urlparse(weights.url).hostname or ""
    if not (probe or host_reachable)(host):
        raise WeightsUnavailableError(
            f"Pretrained weights {weights.file_name} (MD5 {weights.md5}) are not in {folder} "
            f"and {host} is not reachable (offline?). {how}"
        )
    import keras

    downloaded = keras.utils.get_file(
        weights.file_name,
        weights.url,
        cache_subdir="models",
        cache_dir=str(folder.parent),
        file_hash=weights.md5,
    )
    return Path(downloaded)
