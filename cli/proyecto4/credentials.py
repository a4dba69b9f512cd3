"""Credentials of the local platform, generated on first use into PROYECTO4_HOME, so the
demo runs the same authentication code paths as the cluster without asking anything."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from proyecto4_common.names import ADMIN_TOKEN_ENV, ADMIN_TOKEN_FILE


def admin_token(home: Path) -> tuple[str, bool]:
    """The inference API's admin token and whether it was created now: INFERENCE_API_ADMIN_TOKEN
    when set, else the one kept in PROYECTO4_HOME (created, readable by the owner only)."""
    given = os.environ.get(ADMIN_TOKEN_ENV, "").strip()
    if given:
        return given, False
    path = home / ADMIN_TOKEN_FILE
    try:
        # O_EXCL: two commands starting at once cannot both write a token.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip(), False
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as file:
        file.write(token + "\n")
    return token, True
