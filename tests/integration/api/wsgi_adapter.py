"""The resolver as a WSGI application (tests only): each WSGI request becomes the same API
Gateway proxy event the local server builds, so schemathesis can call the API in process."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from portfoliowise.handlers.local_server import (
    LocalContext,
    proxy_event,
    response_body,
    response_headers,
)

Resolve = Callable[[dict[str, Any], Any], dict[str, Any]]


def wsgi_app(resolve: Resolve) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        # The path as sent (WSGI decodes it): `%23` stays `%23`, as in API Gateway's event.
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if raw:
            target = str(raw).split("?", 1)[0]
        else:
            target = quote(environ.get("PATH_INFO", "/"), safe="/:@!$&'()*+,;=-._~")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        request_id = str(uuid.uuid4())
        event = proxy_event(
            environ["REQUEST_METHOD"], target, headers, body, "127.0.0.1", request_id
        )
        answer = resolve(event, LocalContext(aws_request_id=request_id))
        pairs = response_headers(answer)
        payload = response_body(answer)
        if any(k.lower() == "content-encoding" and v == "gzip" for k, v in pairs):
            # what an HTTP client does with a gzip answer (the WSGI test client does not)
            payload = gzip.decompress(payload)
            pairs = [(k, v) for k, v in pairs if k.lower() != "content-encoding"]
        status = int(answer["statusCode"])
        start_response(f"{status} X", pairs)
        return [payload]

    return app
