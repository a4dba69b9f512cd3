"""Local ports for child processes (Locust's master, test and benchmark servers)."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now: the kernel's pick, released at once.

    Another process may take it before the caller binds it; callers that start a server on
    it should fail loudly rather than wait (they do: the server exits with EADDRINUSE).
    """
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
