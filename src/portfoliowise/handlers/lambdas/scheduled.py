"""The scheduled Lambda function (128 MB, 300 s, one at a time).

- The cron rules invoke it with `{"job": "cache-warm" | "backup" | "cleanup"}` (seed
  section 3): the same job functions as the local server's scheduler. Each run publishes a
  `JobCompleted` (source `portfoliowise.jobs`) with its counts; the cache warm is given the
  invocation's remaining time and stops before it runs out (reporting `notReached`).
- The domain-event rule delivers the portfolio context's events (EventBridge envelope,
  `detail` = `{eventId, occurredAt, userId, portfolioId, ...}`): a changed portfolio has its
  symbols priced right away through the market function (idempotent: a redelivered event
  only refreshes the cache again); a deleted one is skipped.
An unknown job or event shape is an error: the invocation fails and Lambda retries it (its
asynchronous defaults); an event EventBridge cannot deliver goes to the rules' dead-letter
queue, whose depth alarm warns the operators. A run that still fails after Lambda's
retries is in the function's logs and error metrics only (noted for the operations issue)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from portfoliowise.application.scheduled_jobs import warm_portfolio
from portfoliowise.domain.errors import ValidationError
from portfoliowise.handlers import bootstrap
from portfoliowise.handlers.container import Container
from portfoliowise.handlers.lambdas import telemetry
from portfoliowise.handlers.tracing import annotate_user, function_tracer

if TYPE_CHECKING:
    from portfoliowise.handlers.jobs import Job

logger = Logger(service="scheduled")
copy_config_to_registered_loggers(source_logger=logger)
container = Container()
tracer = function_tracer("scheduled", container.settings())
measured = telemetry.Telemetry("scheduled", container.settings().service_name)
metrics = measured.metrics
DOMAIN_EVENT_JOB = "portfolio-event"
"""The job name a domain event's handling is measured under (`JobRuns` etc.)."""
_jobs: dict[str, Job] = {}


def jobs() -> dict[str, Job]:
    """Built on first use (the clients are cheap; the bucket name is checked then)."""
    if not _jobs:
        _jobs.update(bootstrap.scheduled_jobs(container))
    return _jobs


def remaining_seconds(context: LambdaContext) -> Callable[[], float]:
    """The invocation's remaining time, in seconds, read each time it is asked."""
    return lambda: context.get_remaining_time_in_millis() / 1000


def run_job(name: str, deadline: Callable[[], float] | None = None) -> dict[str, Any]:
    job = jobs().get(name)
    if job is None:
        raise ValidationError(f"unknown job {name!r}: one of {', '.join(sorted(jobs()))}")
    with measured.job(name):
        report = job(deadline)
    logger.info("job done", extra={"report": report})
    return dict(report)


def on_domain_event(event: dict[str, Any]) -> dict[str, Any]:
    # The parser and its models load on the first event (cron runs never need them).
    from portfoliowise.handlers.lambdas.portfolio_events import parse_portfolio_event

    envelope = parse_portfolio_event(event)
    detail = envelope.detail
    logger.append_keys(event_id=detail.eventId, detail_type=envelope.detail_type)
    annotate_user(detail.userId)  # hashed, on the trace (never the id itself)
    with measured.job(DOMAIN_EVENT_JOB):
        report = warm_portfolio(
            container.portfolios(), container.warmer(), detail.userId, detail.portfolioId
        )
    logger.info("domain event handled", extra={"report": report})
    return dict(report)


# The correlation id is the EventBridge event id: the envelope's `id` for a domain event,
# and for a cron run the schedule event's `id` when its rule's input carries it
# (`{"job": <name>, "id": <aws.events.event.id>}`); absent otherwise. Each invocation
# starts from a clear state (no `event_id` left from an earlier event).
@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(function_version=context.function_version)
    measured.memory(context)
    if "job" in event:
        return run_job(str(event["job"]), remaining_seconds(context))
    if "detail-type" in event:
        return on_domain_event(event)
    raise ValidationError("neither a scheduled job nor an EventBridge event")
