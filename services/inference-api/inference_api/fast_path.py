"""POST /predict/: a raw ASGI app, the endpoint of the first route in FastAPI's router.

Why this shape. A one-record prediction takes a few hundred microseconds, so FastAPI's
per-request work (a Request, dependency solving, a response class, a thread hop for a plain
function) is a large share of it; /predict/ needs none of it: the body, two headers and one
query parameter. A Starlette `Route` whose endpoint is an ASGI app (not a function) skips
exactly that work and nothing else: the route sits inside the app's middleware stack, so
middleware added later with `app.add_middleware` (GZip, CORS, tracing) wraps it as it wraps
every route, an unexpected exception reaches ServerErrorMiddleware (a 500, logged by the
server), and Starlette's own matching gives it root_path handling, 405 on other methods and
the /predict -> /predict/ redirect.

Why not a pure ASGI middleware, the other supported place: it would run ahead of routing,
so it would have to match the path itself (root path, trailing slash, 405) or leave a route
in the router that never serves, and any middleware added before it would silently not wrap
it. Skipping the router and ExceptionMiddleware would save only a few microseconds.

Why first in the router: it is matched before the documentation routes, one regex away.

Why its own body limit instead of Starlette's `Route(max_body_size=...)`: that one answers
413 in plain text, and every error of this API is JSON with a `detail`; reading the body here
anyway, the limit costs one comparison per chunk.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from proyecto4_common.names import PREDICT_PATH
from pydantic import TypeAdapter, ValidationError
from starlette.routing import Route

from inference_api import predict as hot
from inference_api.services import Services

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


def _too_large(limit: int, size: str) -> hot.InvalidInput:
    return hot.InvalidInput(
        413,
        f"request body too large: {size}, at most {limit} bytes (INFERENCE_API_MAX_BODY_BYTES); "
        "send fewer records per request",
    )


def check_length(content_length: bytes | None, limit: int) -> None:
    """413 from the declared size, before a byte of the body is read."""
    if content_length is None:
        return
    try:
        declared = int(content_length)
    except ValueError:
        return  # the server refuses a malformed length; the chunks are counted anyway
    if declared > limit:
        raise _too_large(limit, f"{declared} bytes")


async def read_body(receive, limit: int) -> bytes | None:
    """The whole body, or None when the client went away first; 413 as soon as the chunks
    read add up to more than `limit` (a chunked body declares no length)."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, f"more than {limit} bytes sent")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send, reply: hot.Reply) -> None:
    headers = [(b"content-type", _JSON), (b"content-length", str(len(reply.body)).encode())]
    if reply.headers:
        headers += [(k.lower().encode(), v.encode()) for k, v in reply.headers.items()]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


def _text(value: bytes | None) -> str | None:
    return value and value.decode("latin-1")


class PredictEndpoint:
    """The route's ASGI app. An unexpected exception is not caught here: it belongs to
    ServerErrorMiddleware, like any route's."""

    async def __call__(self, scope, receive, send) -> None:
        # The app's services, reached as Request.app reaches them.
        services: Services = scope["app"].state.services
        headers = dict(scope["headers"])  # ASGI names are lower-case
        # The key first: a caller without one is refused before its body is read.
        refused = hot.refusal(services, _text(headers.get(b"authorization")))
        if refused is not None:
            await _send(send, refused)
            return
        try:
            contributions = _contributions(scope["query_string"])
            limit = services.settings.max_body_bytes
            check_length(headers.get(b"content-length"), limit)
            body = await read_body(receive, limit)
        except hot.InvalidInput as exc:
            # Refused before parsing: counted, never logged to inference_log.
            services.metrics.invalid.inc()
            await _send(send, hot.error_reply(exc.status, exc.detail))
            return
        if body is None:
            return
        reply = await hot.serve(services, body, _text(headers.get(b"content-type")), contributions)
        await _send(send, reply)


def predict_route() -> Route:
    # An ASGI app as endpoint (an instance, not a function): Starlette calls it as is. POST
    # only: another method matches partially and gets Starlette's 405. Its OpenAPI entry is
    # built in openapi.py (FastAPI documents only its own APIRoutes).
    return Route(PREDICT_PATH, PredictEndpoint(), methods=["POST"], name="predict")
