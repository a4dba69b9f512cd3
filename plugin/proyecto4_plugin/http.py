"""One HTTP service the plugin talks to, with failures phrased as one line for the user."""

from __future__ import annotations

from typing import Any

import httpx

from proyecto4_plugin.errors import PluginError


def detail(response: httpx.Response) -> str:
    """The server's own explanation: FastAPI's `detail`, MLflow's `message`, else the text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("detail", "message", "error"):
            if body.get(key):
                return str(body[key])
    return " ".join(response.text.split())[:200] or response.reason_phrase


class Service:
    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout: float,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ):
        if not base_url.startswith(("http://", "https://")):
            raise PluginError(f"{name} URL must start with http:// or https:// (got {base_url!r})")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client = httpx.Client(
            base_url=self.base_url, timeout=timeout, auth=auth, headers=headers
        )

    def close(self) -> None:
        self._client.close()

    def call(
        self, method: str, path: str, *, expect: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise PluginError(
                f"{self.name} at {self.base_url} did not answer within {self.timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise PluginError(f"{self.name} is not reachable at {self.base_url}: {exc}") from None
        if response.status_code not in expect:
            raise PluginError(
                f"{self.name} answered {response.status_code} to {method} {path}: "
                f"{detail(response)}"
            )
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise PluginError(
                f"{self.name} answered {method} {path} with something that is not JSON"
            ) from None

    def probe(self, path: str) -> int | None:
        """Status code of a health-style endpoint, None when nothing answers."""
        try:
            return self.call("GET", path, expect=tuple(range(100, 600))).status_code
        except PluginError:
            return None
