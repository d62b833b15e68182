"""The network probe: does a host answer at all, within a short timeout?

Sources that download data and loaders of pretrained weights ask this first,
so that an offline machine fails in seconds with a clear reason instead of
hanging in a download.
"""

from __future__ import annotations

import concurrent.futures
import socket


def host_reachable(host: str, port: int = 443, timeout: float = 2.0) -> bool:
    """Tells whether a TCP connection to ``host:port`` opens within ``timeout``.

    Name resolution is included in the timeout (it can hang for much longer
    than a connect on a machine without network).

    Args:
        host: Host name or address.
        port: TCP port.
        timeout: Seconds to wait in total.

    Returns:
        True if the connection opened.

    Example:
        >>> host_reachable("localhost", port=1, timeout=0.5)
        False
    """

    def connect() -> bool:
        with socket.create_connection((host, port), timeout=timeout):
            return True

    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        return executor.submit(connect).result(timeout=timeout)
    except (OSError, concurrent.futures.TimeoutError):
        return False
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
