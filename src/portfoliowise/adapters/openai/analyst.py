"""The OpenAI analyst: the rule-based report and the portfolio's anonymous figures go to
OpenAI's Responses API, which answers a summary, risks and suggestions in the requested
language as structured output (`responses.parse(text_format=PortfolioAnalysis)`: the SDK
sends the pydantic model as a strict JSON schema and validates the answer against it).

Why the Responses API: it is the SDK's primary API, `parse` is its structured-output path,
refusals come as typed `refusal` content items, and `store=False` keeps the figures out of
OpenAI's stored responses. Chat Completions would work as well; nothing here needs it.

What is sent: `request.kind`, `request.figures` and `request.rules.to_json()`, nothing else.
An `AnalysisRequest` carries no user id, e-mail, name, portfolio id or portfolio name by
construction, and this adapter adds none (no `user`, no `safety_identifier`, no metadata).

The model: `DEFAULT_MODEL` (`gpt-4.1-mini`, the handlers' `OPENAI_MODEL` setting by default),
a small model without reasoning tokens: it answers in a few seconds and supports strict
structured output. No sampling or reasoning parameter is sent, so a reasoning model
(`gpt-5.4-mini`, ...) can be configured too; it is slower, so check the timeout first.

Time budget. The analysis function has 60 s in all (seed). Reading the portfolio, the cached
quotes, the price histories and the secret, computing the rules, then writing the job and
its audit entry and event must fit beside the AI call, so the AI call gets at most
`BUDGET_SECONDS` = 45 s, leaving 15 s for the rest. An attempt may take
`CONNECT_TIMEOUT_SECONDS` (3 s) to connect, then `TIMEOUT_SECONDS` (18 s) waiting for the
answer: the Responses API sends a non-streamed answer in one piece once generated, so the
read timeout bounds the generation (`MAX_OUTPUT_TOKENS` = 1,500 keeps a small model's answer
well under it). With `MAX_RETRIES` = 1 and a `RETRY_DELAY_SECONDS` = 0.5 s pause the worst
case is 2 x (3 + 18) + 0.5 = 42.5 s <= 45 s; the constructor refuses settings whose worst
case exceeds the budget, and before a retry the time actually spent is checked again (a
retry is made only if a full attempt still fits in the budget).

Retries are this adapter's, never the SDK's (`max_retries=0` in the SDK): the SDK would
honour a `Retry-After` of up to two minutes on a 429 or a 5xx, far past the budget. What is
retried (once, within the budget): a timeout, a connection failure, a 5xx, 408 and 409. What
is not: a 429 (a rate limit or an exhausted quota: the rule-based report stands at once), any
other 4xx, a refusal, an invalid answer.

Outcomes (each failure an `AnalystFailed` whose reason the rule-based report carries):
- no key (none configured, an empty or placeholder secret) or a key OpenAI refuses (401;
  the cached key is then forgotten so that a rotated key is read again) -> `NO_KEY`;
- the model refuses (a `refusal` content item, or an answer stopped by the content filter)
  -> `REFUSAL`;
- the request times out -> `TIMEOUT`; HTTP 429 -> `RATE_LIMITED`;
- a 2xx body that is not JSON, not a response object, an answer that fails the schema (a
  missing `summary`, ...), an empty summary or no answer at all -> `INVALID_OUTPUT`;
- anything else (connection failure, 5xx, other 4xx, a failed response) -> `UNAVAILABLE`.

A suggestion that names a rule id the request does not have keeps its text and loses the
reference (`rule=None`): the advice stands on its own and the report never points at a rule
that is not in it. (The instructions list the known ids; strict structured output cannot
constrain them without a per-request schema.)

The SDK (and `httpx2`, which it is built on) is imported on the first `analyse` that has a
key, never at import time: no other function's import graph loads it. openai 3.x takes an
`httpx2.Client` as `http_client` (tests pass one on an `httpx2.MockTransport`). The base URL
is explicit (`BASE_URL`): an `OPENAI_BASE_URL` in the environment is not followed."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, Field

from portfoliowise.domain.analysis import (
    OPENAI_ANALYST,
    AnalysisReport,
    AnalysisRequest,
    AnalystFailed,
    FallbackReason,
    Language,
    Suggestion,
)

if TYPE_CHECKING:
    import httpx2
    from openai import OpenAI
    from openai.types.responses import ParsedResponse

log = logging.getLogger(__name__)

DEFAULT_MODEL: Final = "gpt-4.1-mini"
# Explicit, so that no OPENAI_BASE_URL in the environment can send the figures elsewhere.
BASE_URL: Final = "https://api.openai.com/v1"
BUDGET_SECONDS: Final = 45.0  # of the analysis function's 60 s (see the module docstring)
TIMEOUT_SECONDS: Final = 18.0  # waiting for the answer, per attempt
CONNECT_TIMEOUT_SECONDS: Final = 3.0  # per attempt
MAX_RETRIES: Final = 1
RETRY_DELAY_SECONDS: Final = 0.5
MAX_OUTPUT_TOKENS: Final = 1500
_RETRIED_STATUSES: Final = frozenset({408, 409})


class SuggestionAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="One concrete suggestion, in the requested language.")
    rule: str | None = Field(
        description="The id of the rule this suggestion follows from, or null if none."
    )


# The structured answer asked of the model: the SDK sends it as a strict JSON schema (the
# docstring and the field descriptions included, so they are written for the model).
class PortfolioAnalysis(BaseModel):
    """An analysis of one portfolio for its investor."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(description="The portfolio's overall state in 2 to 4 sentences.")
    risks: list[str] = Field(description="Up to 5 short risks, the most important first.")
    suggestions: list[SuggestionAnswer] = Field(description="Up to 5 suggestions.")


_LANGUAGE_INSTRUCTIONS: Final = {
    Language.JA: (
        "Write summary, risks and suggestions in Japanese (日本語で書いてください). "
        "Keep symbols, fund codes and rule ids exactly as given."
    ),
    Language.EN: (
        "Write summary, risks and suggestions in English. "
        "Keep symbols, fund codes and rule ids exactly as given."
    ),
}

_INSTRUCTIONS: Final = """\
You are a portfolio analyst for an individual investor who holds Japanese and US listings \
and Japanese mutual funds. The input is a JSON document with the anonymous figures of one \
portfolio (`figures`) and the report of rule-based checks made on it (`ruleReport`: each \
rule with its id, its outcome pass, fail or not_computed, a message, its value and threshold).

Answer with:
- summary: the portfolio's overall state in 2 to 4 sentences;
- risks: up to 5 short risks, the most important first;
- suggestions: up to 5 concrete suggestions (diversification, allocation, currency, costs). \
Set `rule` to the id of the rule a suggestion follows from, one of: {rule_ids}; otherwise null.

Use only the figures given: never invent prices, returns, news or any number that is not in \
the input. Do not tell the investor to buy or sell a particular security: this is general \
information, not investment advice.
{language}"""


def instructions_for(request: AnalysisRequest) -> str:
    """The system instructions of `request`: the task, the known rule ids, the language."""
    ids = ", ".join(sorted({r.rule for r in request.rules.rules})) or "(none)"
    return _INSTRUCTIONS.format(rule_ids=ids, language=_LANGUAGE_INSTRUCTIONS[request.language])


def input_for(request: AnalysisRequest) -> str:
    """The user input of `request`: its kind, figures and rule-based report, as JSON."""
    document = {
        "kind": request.kind,
        "language": request.language.value,
        "figures": request.figures,
        "ruleReport": request.rules.to_json(),
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


class OpenAIAnalyst:
    """The `Analyst` port over OpenAI's Responses API (see the module docstring).

    `api_key` is called on each analysis (a `SecretApiKey` caches it); None or "" means no
    key. `http_client` is an `httpx2.Client` handed to the SDK as it is (tests pass one on a
    `httpx2.MockTransport`); by default the SDK makes its own."""

    name = "openai"

    def __init__(
        self,
        api_key: Callable[[], str | None],
        *,
        model: str = DEFAULT_MODEL,
        http_client: httpx2.Client | None = None,
        timeout_seconds: float = TIMEOUT_SECONDS,
        connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS,
        max_retries: int = MAX_RETRIES,
        retry_delay_seconds: float = RETRY_DELAY_SECONDS,
        budget_seconds: float = BUDGET_SECONDS,
        max_output_tokens: int = MAX_OUTPUT_TOKENS,
        base_url: str = BASE_URL,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not model.strip():
            raise ValueError("the OpenAI model must be named")
        if timeout_seconds <= 0 or connect_timeout_seconds <= 0 or max_retries < 0:
            raise ValueError("timeouts must be positive and max_retries non-negative")
        attempt = connect_timeout_seconds + timeout_seconds
        worst = (max_retries + 1) * attempt + max_retries * retry_delay_seconds
        if worst > budget_seconds:
            raise ValueError(
                f"{max_retries + 1} attempts of {attempt:g} s and {max_retries} pauses of "
                f"{retry_delay_seconds:g} s take up to {worst:g} s, over the {budget_seconds:g} s "
                "budget of the AI call"
            )
        self.model = model.strip()
        self._api_key = api_key
        self._http_client = http_client
        self._timeout = timeout_seconds
        self._connect_timeout = connect_timeout_seconds
        self._attempt_seconds = attempt
        self._max_retries = max_retries
        self._retry_delay = retry_delay_seconds
        self._budget = budget_seconds
        self._max_output_tokens = max_output_tokens
        self._base_url = base_url
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._client: OpenAI | None = None
        self._client_key: str | None = None

    def analyse(self, request: AnalysisRequest) -> AnalysisReport:
        key = self._api_key()
        if key is None or not key.strip():
            raise AnalystFailed(FallbackReason.NO_KEY, "no OpenAI API key is configured")
        key = key.strip()
        client = self._client_for(key)
        response = self._ask(client, request)
        return self._report(request, response)

    # -- the call ------------------------------------------------------------------------

    def _client_for(self, key: str) -> OpenAI:
        with self._lock:
            if self._client is None or self._client_key != key:
                import httpx2
                from openai import OpenAI

                self._client = OpenAI(
                    api_key=key,
                    base_url=self._base_url,
                    http_client=self._http_client,
                    timeout=httpx2.Timeout(self._timeout, connect=self._connect_timeout),
                    max_retries=0,  # this adapter retries, within its budget
                )
                self._client_key = key
            return self._client

    def _ask(self, client: OpenAI, request: AnalysisRequest) -> ParsedResponse[PortfolioAnalysis]:
        import openai

        instructions = instructions_for(request)
        text = input_for(request)
        started = self._clock()
        retries = 0
        while True:
            try:
                raw = client.responses.with_raw_response.parse(
                    model=self.model,
                    instructions=instructions,
                    input=text,
                    text_format=PortfolioAnalysis,
                    max_output_tokens=self._max_output_tokens,
                    store=False,
                )
            except openai.OpenAIError as exc:
                failure, retryable = _failure(exc)
                spent = self._clock() - started
                if (
                    retryable
                    and retries < self._max_retries
                    and spent + self._retry_delay + self._attempt_seconds <= self._budget
                ):
                    retries += 1
                    log.info(
                        "OpenAI call failed (%s); retrying in %g s", failure, self._retry_delay
                    )
                    self._sleep(self._retry_delay)
                    continue
                if isinstance(exc, openai.AuthenticationError):
                    self._forget_key()
                raise failure from exc
            break
        try:
            # The SDK reads the 2xx body here: JSON, a response object, the answer validated
            # against PortfolioAnalysis. Whatever fails in that is an invalid answer.
            return raw.parse()
        except (ValueError, TypeError, AttributeError, KeyError, openai.OpenAIError) as exc:
            raise AnalystFailed(
                FallbackReason.INVALID_OUTPUT, f"unreadable answer ({type(exc).__name__})"
            ) from exc

    def _forget_key(self) -> None:
        with self._lock:
            self._client = None
            self._client_key = None
        forget = getattr(self._api_key, "forget", None)
        if callable(forget):
            forget()

    # -- the answer ----------------------------------------------------------------------

    def _report(
        self, request: AnalysisRequest, response: ParsedResponse[PortfolioAnalysis]
    ) -> AnalysisReport:
        usage = response.usage
        log.info(
            "OpenAI answer %s from %s (%s): %s input / %s output tokens",
            response.id,
            response.model,
            response.status,
            usage.input_tokens if usage else "?",
            usage.output_tokens if usage else "?",
        )
        refusal = _refusal(response)
        if refusal is not None:
            raise AnalystFailed(FallbackReason.REFUSAL, refusal[:300])
        if response.status == "failed":
            message = response.error.message if response.error else "no detail"
            raise AnalystFailed(FallbackReason.UNAVAILABLE, f"the response failed: {message}")
        incomplete = response.incomplete_details.reason if response.incomplete_details else None
        if incomplete == "content_filter":
            raise AnalystFailed(FallbackReason.REFUSAL, "the answer was stopped by the filter")
        if response.status == "incomplete":
            raise AnalystFailed(FallbackReason.INVALID_OUTPUT, f"incomplete answer ({incomplete})")
        answer = response.output_parsed
        if answer is None:
            raise AnalystFailed(FallbackReason.INVALID_OUTPUT, "no structured answer")
        summary = answer.summary.strip()
        if not summary:
            raise AnalystFailed(FallbackReason.INVALID_OUTPUT, "an empty summary")
        known = {r.rule for r in request.rules.rules}
        return AnalysisReport(
            analyst=OPENAI_ANALYST,
            language=request.language,
            summary=summary,
            rules=request.rules.rules,
            risks=tuple(r.strip() for r in answer.risks if r.strip()),
            suggestions=_suggestions(answer.suggestions, known),
            model=response.model
            if isinstance(response.model, str) and response.model
            else self.model,
        )


def _failure(exc: Exception) -> tuple[AnalystFailed, bool]:
    """The outcome of an SDK error raised by the call, and whether a retry may help."""
    import openai

    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError, its base
        return AnalystFailed(FallbackReason.TIMEOUT, "OpenAI did not answer in time"), True
    if isinstance(exc, openai.APIConnectionError):
        return AnalystFailed(FallbackReason.UNAVAILABLE, "OpenAI could not be reached"), True
    if isinstance(exc, openai.RateLimitError):
        return AnalystFailed(FallbackReason.RATE_LIMITED, _status_detail(exc)), False
    if isinstance(exc, openai.AuthenticationError):
        return AnalystFailed(
            FallbackReason.NO_KEY, f"the key was refused: {_status_detail(exc)}"
        ), False
    if isinstance(exc, openai.APIStatusError):
        retryable = exc.status_code >= 500 or exc.status_code in _RETRIED_STATUSES
        return AnalystFailed(FallbackReason.UNAVAILABLE, _status_detail(exc)), retryable
    if isinstance(exc, openai.APIResponseValidationError):
        return AnalystFailed(FallbackReason.INVALID_OUTPUT, "unreadable answer"), False
    return AnalystFailed(FallbackReason.UNAVAILABLE, type(exc).__name__), False


def _status_detail(exc: Any) -> str:
    """`HTTP 429 rate_limit_exceeded (request req_...)`: the status, OpenAI's error code and
    the request id, never the message (it may quote part of the key)."""
    code = getattr(exc, "code", None)
    request_id = getattr(exc, "request_id", None)
    detail = f"HTTP {exc.status_code}"
    if code:
        detail += f" {code}"
    if request_id:
        detail += f" (request {request_id})"
    return detail


def _refusal(response: ParsedResponse[PortfolioAnalysis]) -> str | None:
    for item in response.output:
        if item.type == "message":
            for content in item.content:
                if content.type == "refusal":
                    return content.refusal or "refused"
    return None


def _suggestions(answers: Sequence[SuggestionAnswer], known: set[str]) -> tuple[Suggestion, ...]:
    suggestions: list[Suggestion] = []
    for answer in answers:
        text = answer.text.strip()
        if not text:
            continue
        rule = answer.rule.strip() if answer.rule else None
        if rule is not None and rule not in known:
            log.info("a suggestion names the unknown rule %r: the reference is dropped", rule)
            rule = None
        suggestions.append(Suggestion(text=text, rule=rule))
    return tuple(suggestions)
