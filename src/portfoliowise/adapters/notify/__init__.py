"""Where signals go (the `Signals` port of `domain/signals.py`): the info SNS topic in AWS
(`SnsSignals`), a log line locally (`LoggedSignals`). Neither raises: a signal that cannot
be published is logged and dropped. `SnsSignals` imports boto3 only when it builds its
client (`sns_client`)."""

from portfoliowise.adapters.notify.logged import LoggedSignals, signal_document
from portfoliowise.adapters.notify.sns import SnsSignals, sns_client

__all__ = ["LoggedSignals", "SnsSignals", "signal_document", "sns_client"]
