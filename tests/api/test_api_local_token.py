"""The local CLI gives the API an admin token it generates once into PROYECTO4_HOME."""

from __future__ import annotations

import stat

import httpx
from api_helpers import api_env, bearer
from proyecto4.processes import running
from proyecto4_common.names import ADMIN_TOKEN_FILE
from servers import BIN, free_port


def test_serve_api_generates_the_token_once_private_and_the_api_requires_it(
    trained_model, log_db, tmp_path
):
    env = {
        **api_env(trained_model, log_db),
        "PROYECTO4_HOME": str(tmp_path),
        "INFERENCE_API_ADMIN_TOKEN": "",
    }
    logs = []
    for start in range(2):
        port = free_port()
        log = tmp_path / f"serve-{start}.log"
        args = [str(BIN / "proyecto4"), "serve", "api", "--port", str(port)]
        with running(args, f"http://127.0.0.1:{port}/ready", env, log, timeout=180):
            token = (tmp_path / ADMIN_TOKEN_FILE).read_text().strip()
            url = f"http://127.0.0.1:{port}"
            refused = httpx.post(f"{url}/load_model/", timeout=60)
            loaded = httpx.post(f"{url}/load_model/", headers=bearer(token), timeout=60)
        logs.append(log.read_text())

    assert stat.S_IMODE((tmp_path / ADMIN_TOKEN_FILE).stat().st_mode) == 0o600
    assert len(token) >= 40
    assert (refused.status_code, loaded.status_code) == (401, 200)
    # Shown on the first start only.
    assert token in logs[0] and token not in logs[1]
