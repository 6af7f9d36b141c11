"""The market Lambda function: quotes, history and the existing app's market data (and
health, OpenAPI). Yahoo's yfinance is imported on the first Yahoo call, not here.

Invoked directly by the scheduled function with `{"warm": {"symbols", "pairs"}}`, it
refreshes the quote cache for them (the cache-warm job) and answers what it priced."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from portfoliowise.adapters.functions.market_warmer import WARM_REQUEST
from portfoliowise.handlers import bootstrap
from portfoliowise.handlers.container import Container
from portfoliowise.handlers.lambdas import telemetry
from portfoliowise.handlers.tracing import function_tracer

logger = Logger(service="market")
copy_config_to_registered_loggers(source_logger=logger)
container = Container()
tracer = function_tracer("market", container.settings(), http=True)
app = bootstrap.market_function(container)


def warm(request: dict[str, Any]) -> dict[str, Any]:
    from portfoliowise.application.scheduled_jobs import ServiceWarmer  # the scheduled job's

    symbols = [str(s) for s in request.get("symbols") or []]
    pairs = [str(p) for p in request.get("pairs") or []]
    report = ServiceWarmer(container.market()).warm(symbols, pairs)
    logger.info("cache warmed", extra={"priced": report.priced, "unavailable": report.unavailable})
    return {"priced": report.priced, "unavailable": report.unavailable}


measured = telemetry.Telemetry("market", container.settings().service_name)
metrics = measured.metrics


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(function_version=context.function_version)
    before = container.market().counters.snapshot()
    if WARM_REQUEST in event and "httpMethod" not in event:
        answer = warm(event[WARM_REQUEST])
    else:
        answer = measured.api_request(app, event, context)
    measured.market(before, container.market().counters.snapshot())
    measured.memory(context)
    return answer
