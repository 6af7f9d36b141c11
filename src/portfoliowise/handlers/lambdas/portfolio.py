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

logger = Logger(service="portfolio")
copy_config_to_registered_loggers(source_logger=logger)
container = Container()
metrics = telemetry.metrics("portfolio", container.settings().service_name)
# Every signal the use cases emit is also counted in this function's metrics (the info
# alarms), flushed with the others by `@metrics.log_metrics`; before the app is built, so
# that whatever it builds gets the counting one.
container.signals.override(providers.Object(telemetry.MetricSignals(container.signals(), metrics)))
app = bootstrap.portfolio_function(container)


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(function_version=context.function_version)
    response = app.resolve(event, context)
    telemetry.count_request(metrics, event, response)
    telemetry.count_portfolio_write(metrics, event, response)
    telemetry.count_portfolio_value(metrics, event, response)
    return response
