"""Schemathesis over the API's OpenAPI document: every check, no server error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from api_helpers import ADMIN_TOKEN, api_env, running_api

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def test_the_openapi_document_describes_the_record_from_the_spec(api, trained_model):
    document = httpx.get(f"{api}/openapi.json").json()

    record = document["components"]["schemas"]["Record"]
    assert record["required"] == trained_model.spec.names
    assert record["additionalProperties"] is False
    assert document["components"]["schemas"]["RecordList"]["maxItems"] == 20


def test_schemathesis_finds_no_failure(trained_model, log_db, tmp_path):
    # An API of its own: /load_model/ with generated versions may swap its model.
    with running_api(api_env(trained_model, log_db, max_records=20)) as url:
        result = _schemathesis(url, tmp_path)

    assert result.returncode == 0, result.stdout[-6000:]


def _schemathesis(url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--workers",
            "1",
            "--seed",
            "1",
            "--generation-database",
            "none",
            "--no-color",
            # The admin token, so generated loads get past the auth check into validation;
            # schemathesis' ignored_auth check also sends requests without it.
            "--header",
            f"Authorization: Bearer {ADMIN_TOKEN}",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
