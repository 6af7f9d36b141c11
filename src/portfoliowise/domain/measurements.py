"""What the use cases observe for the operators' metrics: a session opened, a portfolio
valued. The runtime's adapter turns each observation into a metric (Embedded Metric Format
in the Lambda functions, `handlers/lambdas/telemetry.py`); elsewhere nothing is kept
(`NoMeasurements`). An observation never carries an e-mail, a name or a user id."""

from __future__ import annotations

from typing import Protocol

from portfoliowise.domain.money import Money


class Measurements(Protocol):
    """Never raises: a lost measurement must not fail the request that caused it."""

    def session_opened(self, provider: str) -> None:
        """A session was created by a sign-in through `provider` (`google`, `dev`)."""
        ...

    def portfolio_valued(self, total: Money) -> None:
        """A complete valuation was served, totalling `total` (in its currency)."""
        ...


class NoMeasurements:
    """Measurements kept nowhere (the CLI, the local server, tests that don't look)."""

    def session_opened(self, provider: str) -> None:
        return None

    def portfolio_valued(self, total: Money) -> None:
        return None
