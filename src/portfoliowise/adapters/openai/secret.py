"""The OpenAI API key, from a Secrets Manager secret, read lazily and cached.

The stack creates the secret with a generated placeholder value; the team then puts the key
issued by OpenAI in it. So a secret that is missing, empty, or does not hold an OpenAI key
(`sk-...`, as a plain string or as `{"apiKey": "sk-..."}`) means "no key": the analysis
answers with the rule-based report, `fallbackReason: "no_key"`, and makes no OpenAI call.

Caching: a key, once read, is kept for the life of the process (a Lambda instance), until
`forget()` (the analyst calls it when OpenAI refuses the key, so a re-issued key is read on
the next analysis). "No key" is kept `RECHECK_SECONDS` (5 minutes), so that setting the key
takes effect without a redeploy while an unconfigured stack does not read the secret on
every analysis. A Secrets Manager failure (access denied, throttled, unreachable) is not
cached: `AnalystFailed(UNAVAILABLE)`."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

from portfoliowise.domain.analysis import AnalystFailed, FallbackReason

log = logging.getLogger(__name__)

RECHECK_SECONDS: Final = 300.0
KEY_PREFIX: Final = "sk-"  # every OpenAI API key: sk-proj-..., sk-svcacct-..., sk-...
_JSON_FIELDS: Final = ("apiKey", "api_key", "key", "OPENAI_API_KEY")


class SecretsClient(Protocol):
    """The part of boto3's Secrets Manager client used here."""

    def get_secret_value(self, *, SecretId: str) -> Mapping[str, Any]: ...


def api_key_from_secret(value: str | None) -> str | None:
    """The OpenAI key a secret string holds, or None: empty, a placeholder, not a key."""
    text = (value or "").strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            return None
        found = [document.get(f) for f in _JSON_FIELDS] if isinstance(document, dict) else []
        text = next((v.strip() for v in found if isinstance(v, str) and v.strip()), "")
    if not text:
        return None
    if (
        not text.startswith(KEY_PREFIX)
        or len(text) <= len(KEY_PREFIX)
        or any(c.isspace() for c in text)
    ):
        log.warning(
            "the OpenAI key secret holds no OpenAI key (sk-...): the analysis runs without AI"
        )
        return None
    return text


class SecretApiKey:
    """`api_key` of `OpenAIAnalyst`: the key in the secret `secret_id` (see the module
    docstring). The Secrets Manager client is made on the first read."""

    def __init__(
        self,
        secrets_client_factory: Callable[[], SecretsClient],
        secret_id: str,
        *,
        recheck_seconds: float = RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not secret_id.strip():
            raise ValueError("the OpenAI key secret must be named")
        self._factory = secrets_client_factory
        self._client: SecretsClient | None = None
        self.secret_id = secret_id.strip()
        self._recheck = recheck_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._key: str | None = None
        self._none_since: float | None = None

    def __call__(self) -> str | None:
        with self._lock:
            if self._key is not None:
                return self._key
            if self._none_since is not None and self._clock() - self._none_since < self._recheck:
                return None
            key = api_key_from_secret(self._read())
            if key is None:
                self._none_since = self._clock()
            else:
                self._key, self._none_since = key, None
            return key

    def forget(self) -> None:
        """Drop the cached key (OpenAI refused it): the next call reads the secret again."""
        with self._lock:
            self._key = None
            self._none_since = None

    def _read(self) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if self._client is None:
                self._client = self._factory()
            answer = self._client.get_secret_value(SecretId=self.secret_id)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ResourceNotFoundException":  # no secret, or one never given a value
                log.warning("the OpenAI key secret %s has no value", self.secret_id)
                return None
            raise AnalystFailed(
                FallbackReason.UNAVAILABLE, f"Secrets Manager ({code}) reading the OpenAI key"
            ) from exc
        except BotoCoreError as exc:
            raise AnalystFailed(
                FallbackReason.UNAVAILABLE, "Secrets Manager unreachable reading the OpenAI key"
            ) from exc
        value = answer.get("SecretString")
        return value if isinstance(value, str) else None


def secret_api_key(
    secrets_client_factory: Callable[[], SecretsClient], secret_id: str
) -> Callable[[], str | None]:
    """The OpenAI key in the Secrets Manager secret `secret_id`, read once and cached: a
    `SecretApiKey`, whose `forget()` the analyst calls when OpenAI refuses the key."""
    return SecretApiKey(secrets_client_factory, secret_id)
