"""Analysis routes: ask for an analysis of a portfolio (202 and a job to poll: an analysis
can take longer than API Gateway waits) and read the job. Only the owner sees a job."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import BaseModel, ConfigDict

from portfoliowise.application.analysis import (
    AnalysisPorts,
    job_for_owner,
    request_analysis,
)
from portfoliowise.domain.analysis_jobs import AnalysisJob
from portfoliowise.handlers.api import dependencies as deps
from portfoliowise.handlers.api.schemas.analysis import AnalysisJobOut
from portfoliowise.handlers.api.schemas.common import errors, ok

TAG = "analysis"

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

User = Annotated[str, Depends(deps.current_user)]
Ports = Annotated[AnalysisPorts, Depends(deps.analysis_ports)]


class AnalysisIn(BaseModel):
    """`POST /portfolios/{id}/analysis`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: Literal["ja", "en"] = "ja"
    kind: Literal["portfolio"] = "portfolio"


def _job(job: AnalysisJob, status: int = 200) -> Response[str]:
    headers = {"Cache-Control": "no-store"}
    if status == 202:
        headers["Location"] = f"/analysis/{job.job_id}"
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(job.to_json(), ensure_ascii=False),
        headers=headers,
    )


@router.post(
    "/portfolios/<portfolio_id>/analysis",
    summary="Ask for an analysis of a portfolio (asynchronous: poll the job)",
    description="202 with the pending job and its `Location`; the analysis runs from the "
    "quote cache, with the rule-based analyst always and the AI when configured.",
    tags=[TAG],
    responses={202: ok(AnalysisJobOut, "Accepted"), **errors(401, 403, 404, 413, 415, 503)},
)
def ask(portfolio_id: str, body: AnalysisIn, user: User, ports: Ports) -> Response[str]:
    job = request_analysis(
        ports, user_id=user, portfolio_id=portfolio_id, language=body.language, kind=body.kind
    )
    return _job(job, 202)


@router.get(
    "/analysis/<job_id>",
    summary="An analysis job: its status and, when done, its report",
    tags=[TAG],
    responses={200: ok(AnalysisJobOut), **errors(401, 404)},
)
def job(job_id: str, user: User, ports: Ports) -> Response[str]:
    return _job(job_for_owner(ports.jobs, user, job_id))
