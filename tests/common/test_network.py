import socket
import time

from common.network import host_reachable


def test_host_probe_answers_quickly_when_nothing_listens():
    with socket.socket() as placeholder:  # find a free port, then close it
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    start = time.monotonic()
    assert host_reachable("127.0.0.1", port, timeout=2.0) is False
    assert time.monotonic() - start < 2.5


def test_host_probe_sees_a_listening_server():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert host_reachable("127.0.0.1", server.getsockname()[1], timeout=2.0) is True


def test_data_and_models_use_the_one_probe():
    import data.sources
    import models.pretrained

    assert data.sources.host_reachable is host_reachable
    assert models.pretrained.host_reachable is host_reachable
