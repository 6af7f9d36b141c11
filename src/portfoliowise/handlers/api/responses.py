"""The JSON answer every router builds (one module with no router's imports: the market
function's routers use it without loading the portfolio routes and their use cases)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response[str]:
    """`body` as JSON text (UTF-8 kept as is), with `status` and `headers`."""
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=headers,
    )
