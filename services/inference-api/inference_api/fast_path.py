"""POST /predict/ served straight from ASGI, ahead of FastAPI.

Starlette's middleware, routing and FastAPI's dependency solving cost about a fifth of a
one-row request, and /predict/ needs none of them: the body, two headers and one query
parameter. Every other path, and every other method on this one, goes through FastAPI as
usual; the FastAPI route of /predict/ stays for the OpenAPI document.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from fastapi import FastAPI
from proyecto4_common.names import PREDICT_PATH
from pydantic import TypeAdapter, ValidationError

from inference_api import predict as hot

log = logging.getLogger(__name__)

# The query parameter read as FastAPI reads `contributions: bool` (same values, same message).
_BOOL = TypeAdapter(bool)
_JSON = b"application/json"


def _contributions(query_string: bytes) -> bool:
    if not query_string:
        return False
    # The last of repeated parameters counts, as in Starlette's QueryParams.
    value = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)).get(
        "contributions"
    )
    if value is None:
        return False
    try:
        return _BOOL.validate_python(value)
    except ValidationError as exc:
        raise hot.InvalidInput(422, f"query.contributions: {exc.errors()[0]['msg']}") from None


async def _read_body(receive) -> bytes | None:
    """The whole body, or None when the client went away first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send, reply: hot.Reply) -> None:
    headers = [(b"content-type", _JSON), (b"content-length", str(len(reply.body)).encode())]
    if reply.headers:
        headers += [(k.lower().encode(), v.encode()) for k, v in reply.headers.items()]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


def _route_path(scope) -> str:
    # Behind a path prefix (uvicorn --root-path) the path includes it; routes do not.
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class InferenceApp(FastAPI):
    async def __call__(self, scope, receive, send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and _route_path(scope) == PREDICT_PATH
        ):
            await super().__call__(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return
        headers = dict(scope["headers"])  # ASGI names are lower-case
        content_type = headers.get(b"content-type")
        authorization = headers.get(b"authorization")
        try:
            contributions = _contributions(scope["query_string"])
        except hot.InvalidInput as exc:
            self.state.services.metrics.invalid.inc()
            await _send(send, hot.error_reply(exc.status, exc.detail))
            return
        try:
            reply = await hot.serve(
                self.state.services,
                body,
                content_type and content_type.decode("latin-1"),
                authorization and authorization.decode("latin-1"),
                contributions,
            )
        except Exception:  # a bug of ours: logged, and answered in JSON like every error
            log.exception("POST %s failed", PREDICT_PATH)
            reply = hot.error_reply(500, "Internal Server Error")
        await _send(send, reply)
