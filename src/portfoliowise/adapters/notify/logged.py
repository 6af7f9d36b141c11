"""Signals as log lines (local runs, and AWS without `INFO_TOPIC_ARN`): one INFO line per
signal, `signal: <Signal.message()>`, with the whole signal as the record's `signal` extra
(Powertools' JSON logger prints it as a key of the line)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from portfoliowise.domain.signals import Signal

if TYPE_CHECKING:  # an annotation only: the auth function needs no domain events (cold start)
    from portfoliowise.domain.events import JsonValue


def signal_document(signal: Signal) -> dict[str, JsonValue]:
    """The signal as JSON: `{"kind", "subject", "at", "details"}` (`at` in ISO 8601)."""
    return {
        "kind": signal.kind.value,
        "subject": signal.subject,
        "at": signal.at.isoformat(),
        "details": dict(signal.details),
    }


class LoggedSignals:
    def __init__(self, logger: logging.Logger | Any) -> None:
        """`logger`: a `logging.Logger` or anything with its `info` (a Powertools Logger)."""
        self._logger = logger

    def emit(self, signal: Signal) -> None:
        try:
            self._logger.info(
                "signal: %s", signal.message(), extra={"signal": signal_document(signal)}
            )
        except Exception:  # a signal never fails the request that caused it
            logging.getLogger(__name__).warning("signal not logged", exc_info=True)
