"""A `proyecto4` command stopped with SIGTERM stops the servers it started (they used to
outlive it: a test's teardown left `proyecto4 serve api`'s uvicorn running)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from proyecto4.devkit import wait_until
from proyecto4.processes import answers
from servers import BIN, free_port


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_sigterm_to_serve_stops_the_server_it_started(tmp_path):
    port = free_port()
    command = subprocess.Popen(
        [str(BIN / "proyecto4"), "serve", "data-source", "--port", str(port)],
        env={**os.environ, "PROYECTO4_HOME": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/health"), 120, "the data source")
        [server] = _children(command.pid)

        command.send_signal(signal.SIGTERM)

        assert command.wait(30) == 128 + signal.SIGTERM
        wait_until(lambda: not _alive(server), 15, f"the server (pid {server}) to stop")
        assert not answers(f"http://127.0.0.1:{port}/health")
    finally:
        command.kill()
