"""Reader for the IDX file format of MNIST and Fashion-MNIST."""

from __future__ import annotations

import gzip
import os

import numpy as np

_IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads an IDX file (optionally gzip-compressed) into a NumPy array.

    Args:
        path: Path to an ``*-idx?-ubyte`` file; a ``.gz`` suffix means gzip.

    Returns:
        The array with the shape stored in the file header.

    Raises:
        ValueError: If the file is not a valid IDX file or is truncated.
        OSError: If the file cannot be read.

    Example:
        >>> labels = read_idx("t10k-labels-idx1-ubyte.gz")  # doctest: +SKIP
        >>> labels.shape  # doctest: +SKIP
        (10000,)
    """
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (EOFError, gzip.BadGzipFile) as error:
        raise ValueError(f"Cannot read IDX file {path!r}: {error}") from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(
            f"Invalid IDX file {path!r}: expected a header 0x00 0x00 <type> <ndim>, "
            f"received {raw[:4].hex(' ')!r}."
        )
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    ndim = raw[3]
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"Invalid IDX file {path!r}: header truncated.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    received = len(raw) - header_size
    if received != expected:
        raise ValueError(
            f"Invalid IDX file {path!r}: header shape {shape} needs {expected} bytes of data, "
            f"file has {received}. The file is truncated or corrupt; download it again."
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


_IDX_CODES = {np.dtype(dtype).newbyteorder("="): code for code, dtype in _IDX_DTYPES.items()}


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Writes an array as an IDX file, gzip-compressed if ``path`` ends in ``.gz``.

    Args:
        path: Destination file.
        array: Array of uint8, int8, int16, int32, float32 or float64.

    Raises:
        ValueError: If the dtype has no IDX type code.
    """
    array = np.asarray(array)
    code = _IDX_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(
            f"Cannot write dtype {array.dtype} as IDX; expected one of "
            f"{sorted(str(d) for d in _IDX_CODES)}."
        )
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    payload = header + array.astype(np.dtype(_IDX_DTYPES[code]), copy=False).tobytes()
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as handle:
        handle.write(payload)
