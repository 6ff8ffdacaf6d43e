"""Loopback ports."""
from __future__ import annotations

import socket


def free_ports(n: int) -> list[int]:
    """n distinct free ports on 127.0.0.1, found by binding port 0 on all of them at once; they
    are released before the servers bind them (a window of milliseconds)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()
