"""The portfolio Lambda function: the portfolio routes (and health, OpenAPI), pricing from
the Cache table only. Its import graph stays free of the market sources, httpx, S3,
yfinance, pandas and openai (cold start); a test checks it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext
from dependency_injector import providers

from portfoliowise.handlers import bootstrap
from portfoliowise.handlers.container import Container
from portfoliowise.handlers.lambdas import telemetry
from portfoliowise.handlers.tracing import function_tracer

logger = Logger(service="portfolio")
copy_config_to_registered_loggers(source_logger=logger)
container = Container()
tracer = function_tracer("portfolio", container.settings())
measured = telemetry.Telemetry("portfolio", container.settings().service_name)
metrics = measured.metrics
# Every signal the use cases emit is also counted in this function's metrics (the info
# alarms), and so is what they measure, flushed with the others by `@metrics.log_metrics`;
# before the app is built, so that whatever it builds gets the counting ones.
container.signals.override(providers.Object(telemetry.MetricSignals(container.signals(), metrics)))
container.measurements.override(providers.Object(telemetry.EmfMeasurements(metrics)))
app = bootstrap.portfolio_function(container)


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(function_version=context.function_version)
    before = container.cached_market().counters.snapshot()
    response = measured.api_request(app, event, context)
    measured.portfolio_write(event, response)
    measured.quotes(before, container.cached_market().counters.snapshot())
    measured.memory(context)
    return response
