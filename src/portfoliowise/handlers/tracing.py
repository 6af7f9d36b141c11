"""X-Ray traces (seed section 5): what each Lambda function records, decided by
`Settings.tracing` (inside the Lambda runtime, unless `POWERTOOLS_TRACE_DISABLED`).

- `function_tracer`: the function's Powertools `Tracer` (its `## handler` subsegment, cold
  start and service annotations), with botocore patched, and httpx too in the functions
  that call out over it (auth: Google; market: the sources; analysis: OpenAI's client). The
  portfolio and scheduled functions never load httpx, so they do not patch it.
- `instrument`: one subsegment per adapter call, named after the port's method
  (`PortfolioRepository.get`, `QuoteSource.fetch`), annotated with what it touches
  (`table`, `bucket`, `bus`, `source`, `model`, `function`, `key`, `topic`, `log_group`):
  names only, never a secret. The composition root (`container.py`) wraps each
  outside-facing adapter with it; botocore's and httpx's subsegments nest inside.
- `UserAnnotating`: once a request is authenticated, the `user` annotation is the first
  16 hex digits of the sha256 of the user id (`signals.subject_of`, the pseudonym
  operators' messages use too), never the id or the e-mail.
  Find a user's traces with `annotation.user = "<printf %s "$ID" | sha256sum | cut -c1-16>"`.

Where tracing is off (the CLI, `portfoliowise serve`, tests, SAM local) `instrument` is
the identity and the Tracer is disabled (the X-Ray SDK turned off process-wide), so nothing
calls the recorder and nothing prints "cannot find the current segment". `aws_xray_sdk`
is imported by the Tracer (its recorder) and here only when a traced call runs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from portfoliowise.domain.signals import subject_of

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

    from portfoliowise.handlers.api.access import Authenticator
    from portfoliowise.handlers.settings import Settings

T = TypeVar("T")
USER_ANNOTATION = "user"
BOTOCORE = "botocore"
HTTPX = "httpx"
log = logging.getLogger(__name__)


def function_tracer(service: str, settings: Settings, *, http: bool = False) -> Tracer:
    """The function's tracer: disabled unless `settings.tracing`; botocore patched, and
    httpx when `http`.

    Each is patched when it is first imported (or at once if it already is), not here:
    X-Ray's botocore patch imports `botocore.client` (and with it most of botocore), which a
    function otherwise loads only with its first AWS client, on its first invocation; httpx
    is loaded by the adapter that calls out over it. Either way the patch lands before any
    client exists (X-Ray's httpx patch replaces `httpx.Client`). botocore is patched once
    boto3 is imported (every client here is made through boto3, `adapters.aws_session`):
    by then `botocore.client` is complete, which it is not while its own import runs."""
    from aws_lambda_powertools import Tracer

    tracer = Tracer(service=service, disabled=not settings.tracing, auto_patch=False)
    if not tracer.disabled:
        _patch_when_imported(tracer, BOTOCORE, "boto3")
        if http:
            _patch_when_imported(tracer, HTTPX, HTTPX)
    return tracer


def _patch_when_imported(tracer: Tracer, module: str, imported: str) -> None:
    """`tracer.patch([module])` once `imported` is (X-Ray's patches are idempotent)."""
    from wrapt import when_imported

    @when_imported(imported)
    def patch(_: object) -> None:
        tracer.patch(modules=[module])


class Instrument(Protocol):
    """Wraps an adapter so that each call of one of `ports`' methods is a subsegment."""

    def __call__(self, adapter: T, *ports: type[Any], **annotations: str) -> T: ...


def untraced(adapter: T, *ports: type[Any], **annotations: str) -> T:
    """Tracing off: the adapter itself."""
    return adapter


def traced(adapter: T, *ports: type[Any], **annotations: str) -> T:
    """`adapter` behind a proxy: a call of a method one of `ports` declares (every public
    method when no port is given) opens the subsegment `<Port>.<method>` with
    `annotations` (empty values left out); anything else is the adapter's own."""
    kept = {key: value for key, value in annotations.items() if value}
    return cast(T, _TracedAdapter(adapter, ports, kept))


def instrument_for(settings: Settings) -> Instrument:
    return traced if settings.tracing else untraced


class _TracedAdapter:
    __slots__ = ("_adapter", "_annotations", "_methods", "_ports")

    def __init__(
        self, adapter: object, ports: tuple[type[Any], ...], annotations: Mapping[str, str]
    ) -> None:
        self._adapter = adapter
        self._ports = ports
        self._annotations = dict(annotations)
        self._methods: dict[str, Callable[..., Any]] = {}

    def _port_name(self, name: str) -> str | None:
        if not self._ports:
            return type(self._adapter).__name__
        for port in self._ports:
            if callable(getattr(port, name, None)):
                return port.__name__
        return None

    def __getattr__(self, name: str) -> Any:
        wrapped = self._methods.get(name)
        if wrapped is not None:
            return wrapped
        value = getattr(self._adapter, name)
        port = None if name.startswith("_") or not callable(value) else self._port_name(name)
        if port is None:
            return value
        wrapped = _subsegment(f"{port}.{name}", value, self._annotations)
        self._methods[name] = wrapped
        return wrapped

    def __repr__(self) -> str:
        return f"traced({self._adapter!r})"


def _subsegment(
    name: str, method: Callable[..., Any], annotations: Mapping[str, str]
) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        from aws_xray_sdk.core import xray_recorder  # type: ignore[import-untyped]

        with xray_recorder.in_subsegment(name) as subsegment:
            if subsegment is not None:
                for key, value in annotations.items():
                    subsegment.put_annotation(key, value)
            return method(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def annotate_user(user_id: str) -> None:
    """The `user` annotation on the current (sub)segment: the request's `## handler`
    subsegment. Never fails the request (Lambda's own segment cannot be annotated)."""
    from aws_xray_sdk.core import xray_recorder

    try:
        entity = xray_recorder.get_trace_entity()
        if entity is not None and entity.sampled:
            entity.put_annotation(USER_ANNOTATION, subject_of(user_id))
    except Exception:  # a trace never fails the request it describes
        log.debug("user annotation not set", exc_info=True)


class UserAnnotating:
    """An `Authenticator` that puts the caller's `user` annotation on the trace."""

    def __init__(self, inner: Authenticator) -> None:
        self._inner = inner

    def authenticate(
        self,
        cookie_header: str | None,
        csrf_header: str | None,
        *,
        state_changing: bool,
        authorization: str | None = None,
        origin: str | None = None,
        referer: str | None = None,
    ) -> str:
        user_id = self._inner.authenticate(
            cookie_header,
            csrf_header,
            state_changing=state_changing,
            authorization=authorization,
            origin=origin,
            referer=referer,
        )
        annotate_user(user_id)
        return user_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
