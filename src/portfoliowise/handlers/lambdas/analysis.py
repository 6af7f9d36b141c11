"""The analysis Lambda function (512 MB, 60 s, reserved concurrency 10).

- API Gateway: `POST /portfolios/{id}/analysis` (202 and a job) and `GET /analysis/{jobId}`.
- EventBridge: `AnalysisRequested` (source `portfoliowise.analysis`), delivered at least
  once: the job is claimed by a conditional write, so a redelivery runs nothing; the
  result, the audit entry and `AnalysisCompleted`/`AnalysisFailed` are written once.

Valuations come from the Cache table; the only outbound call is the AI analyst's, and the
OpenAI SDK is imported by this function alone (when a key is configured)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from portfoliowise.application.analysis import run_analysis
from portfoliowise.domain.errors import ValidationError
from portfoliowise.handlers import bootstrap
from portfoliowise.handlers.container import Container
from portfoliowise.handlers.lambdas import telemetry
from portfoliowise.handlers.tracing import annotate_user, function_tracer

logger = Logger(service="analysis")
copy_config_to_registered_loggers(source_logger=logger)
container = Container()
tracer = function_tracer("analysis", container.settings(), http=True)
app = bootstrap.analysis_function(container)
measured = telemetry.Telemetry("analysis", container.settings().service_name)
metrics = measured.metrics
# The correlation id: the API Gateway request id for a request, the EventBridge event id
# (the envelope's `id`) for an `AnalysisRequested` delivery. Each invocation starts from
# a clear state: an event's `event_id`/`job_id` are not carried into the next request's lines.
CORRELATION_ID_PATH = f"{correlation_paths.API_GATEWAY_REST} || {correlation_paths.EVENT_BRIDGE}"


class RequestedDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    eventId: str = Field(min_length=1, max_length=100)  # the wire's camelCase names
    jobId: str = Field(min_length=1, max_length=100)
    userId: str
    portfolioId: str


class AnalysisRequestedEvent(EventBridgeModel):
    detail: RequestedDetail


def on_event(event: dict[str, Any]) -> dict[str, Any]:
    envelope: AnalysisRequestedEvent = parse(event=event, model=AnalysisRequestedEvent)
    if envelope.detail_type != "AnalysisRequested":
        raise ValidationError(f"not an event this function consumes: {envelope.detail_type}")
    detail = envelope.detail
    logger.append_keys(event_id=detail.eventId, job_id=detail.jobId)
    annotate_user(detail.userId)  # hashed, on the trace (never the id itself)
    outcome = run_analysis(container.analysis_ports(), job_id=detail.jobId, event_id=detail.eventId)
    logger.info("analysis event handled", extra={"outcome": outcome})
    measured.analysis(outcome)
    return outcome


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(function_version=context.function_version)
    if "detail-type" in event:
        answer = on_event(event)
    else:
        answer = measured.api_request(app, event, context)
    measured.memory(context)
    return answer
