"""What the scripts that start their own Duban server share: a free port, and waiting for it."""

from __future__ import annotations

import socket
import time
from urllib.error import URLError
from urllib.request import urlopen


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float = 60) -> None:
    """Until the server answers at `url` (any status), or give up with a plain message."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urlopen(url, timeout=2).close()
            return
        except URLError as error:
            if getattr(error, "code", None) is not None:  # an HTTP error is an answer
                return
            time.sleep(0.3)
        except ConnectionError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not answer at {url}")
