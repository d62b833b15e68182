import numpy as np
import pytest

from data.idx import read_idx, write_idx


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip(tmp_path, compress):
    array = np.random.default_rng(0).integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    path = tmp_path / ("a-idx3-ubyte.gz" if compress else "a-idx3-ubyte")
    write_idx(path, array)
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if compress else b"\x00\x00")
    np.testing.assert_array_equal(read_idx(path), array)
    floats = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    write_idx(tmp_path / "f-idx2", floats)
    np.testing.assert_array_equal(read_idx(tmp_path / "f-idx2"), floats)


def test_truncated_file_is_reported(tmp_path):
    path = tmp_path / "t-idx1-ubyte"
    write_idx(path, np.arange(10, dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="needs 10 bytes of data, file has 7"):
        read_idx(path)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="Cannot read IDX file"):
        read_idx(path)
    raw = tmp_path / "x"
    raw.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match="Invalid IDX file"):
        read_idx(raw)
