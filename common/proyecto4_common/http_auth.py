"""How every client of our HTTP APIs sends a secret (the API's admin token or an API key,
Airflow's access token): `Authorization: Bearer <secret>`."""


def bearer(secret: str | None) -> dict[str, str]:
    """The header that carries `secret`; none without one."""
    return {"Authorization": f"Bearer {secret}"} if secret else {}
