"""The OpenAI key from Secrets Manager (moto): read once and cached, "no key" for a missing,
empty or placeholder secret (the analysis then makes no OpenAI call), re-read after the
recheck interval or when OpenAI refused the key; Secrets Manager failures are
`AnalystFailed(UNAVAILABLE)`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws
from openai_recorded import Recorder, analysis_request, analyst_on, recorded

from portfoliowise.adapters.openai import SecretApiKey, api_key_from_secret, secret_api_key
from portfoliowise.domain.analysis import OPENAI_ANALYST, AnalystFailed, FallbackReason

SECRET = "portfoliowise-prod/openai-api-key"
KEY = "sk-proj-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"


class CountingSecrets:
    """A Secrets Manager client that counts its reads (moto's, or one that fails)."""

    def __init__(self, client: Any = None, error: Exception | None = None) -> None:
        self._client = client
        self._error = error
        self.reads = 0

    def get_secret_value(self, *, SecretId: str) -> Mapping[str, Any]:
        self.reads += 1
        if self._error is not None:
            raise self._error
        answer: Mapping[str, Any] = self._client.get_secret_value(SecretId=SecretId)
        return answer


@pytest.fixture
def secrets() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="ap-northeast-1")


@pytest.mark.parametrize(
    "value",
    [KEY, f"  {KEY}\n", f'{{"apiKey": "{KEY}"}}', f'{{"OPENAI_API_KEY": "{KEY}"}}'],
    ids=["plain", "padded", "json-apiKey", "json-env-name"],
)
def test_the_key_in_the_secret(secrets: Any, value: str) -> None:
    secrets.create_secret(Name=SECRET, SecretString=value)

    assert secret_api_key(lambda: secrets, SECRET)() == KEY


@pytest.mark.parametrize(
    "value",
    [
        "   ",
        "A%v8^Qe:rT2,Lm)9zX0w#Kc4!sJb7uYh",  # what the stack's generated placeholder looks like
        "placeholder",
        "sk-",
        "sk-with a space",
        '{"apiKey": ""}',
        '{"other": "sk-abc"}',
        "{not json",
    ],
)
def test_a_placeholder_is_no_key(secrets: Any, value: str) -> None:
    secrets.create_secret(Name=SECRET, SecretString=value)

    assert secret_api_key(lambda: secrets, SECRET)() is None
    assert api_key_from_secret(value) is None


def test_a_missing_secret_or_one_without_a_value_is_no_key(secrets: Any) -> None:
    assert secret_api_key(lambda: secrets, "portfoliowise-prod/none")() is None
    secrets.create_secret(Name=SECRET)  # created, never given a value
    assert secret_api_key(lambda: secrets, SECRET)() is None


def test_the_key_is_read_once(secrets: Any) -> None:
    secrets.create_secret(Name=SECRET, SecretString=KEY)
    client = CountingSecrets(secrets)
    made: list[int] = []

    def factory() -> CountingSecrets:
        made.append(1)
        return client

    key = secret_api_key(factory, SECRET)
    assert made == []  # no client before the first analysis
    assert [key(), key(), key()] == [KEY, KEY, KEY]
    assert client.reads == 1
    assert made == [1]


def test_no_key_is_read_again_after_the_recheck_interval(secrets: Any) -> None:
    secrets.create_secret(Name=SECRET, SecretString="placeholder")
    client = CountingSecrets(secrets)
    now = [0.0]
    key = SecretApiKey(lambda: client, SECRET, clock=lambda: now[0])

    assert key() is None
    secrets.put_secret_value(SecretId=SECRET, SecretString=KEY)  # the team sets the key
    now[0] = 299.0
    assert key() is None
    assert client.reads == 1
    now[0] = 300.0
    assert key() == KEY
    assert client.reads == 2


def test_a_forgotten_key_is_read_again(secrets: Any) -> None:
    secrets.create_secret(Name=SECRET, SecretString=KEY)
    client = CountingSecrets(secrets)
    key = SecretApiKey(lambda: client, SECRET)

    assert key() == KEY
    key.forget()
    assert key() == KEY
    assert client.reads == 2


@pytest.mark.parametrize(
    "error",
    [
        ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}},
            "GetSecretValue",
        ),
        EndpointConnectionError(endpoint_url="https://secretsmanager.ap-northeast-1.amazonaws.com"),
    ],
    ids=["access-denied", "unreachable"],
)
def test_a_secrets_manager_failure_is_unavailable_and_not_cached(error: Exception) -> None:
    client = CountingSecrets(error=error)
    key = secret_api_key(lambda: client, SECRET)

    for _ in range(2):
        with pytest.raises(AnalystFailed) as caught:
            key()
        assert caught.value.reason is FallbackReason.UNAVAILABLE
    assert client.reads == 2


# -- with the analyst ----------------------------------------------------------------------


def test_a_placeholder_secret_makes_no_openai_call(secrets: Any) -> None:
    secrets.create_secret(Name=SECRET, SecretString="A%v8^Qe:rT2,Lm)9zX0w#Kc4!sJb7uYh")
    recorder = Recorder(recorded("answer_ja"))
    analyst = analyst_on(recorder, key=secret_api_key(lambda: secrets, SECRET))

    with pytest.raises(AnalystFailed) as caught:
        analyst.analyse(analysis_request())

    assert caught.value.reason is FallbackReason.NO_KEY
    assert recorder.calls == 0


def test_a_refused_key_is_read_again_on_the_next_analysis(secrets: Any) -> None:
    secrets.create_secret(Name=SECRET, SecretString="sk-proj-revoked")
    client = CountingSecrets(secrets)
    recorder = Recorder(recorded("invalid_api_key"), recorded("answer_ja"))
    analyst = analyst_on(recorder, key=secret_api_key(lambda: client, SECRET))

    with pytest.raises(AnalystFailed) as caught:
        analyst.analyse(analysis_request())
    assert caught.value.reason is FallbackReason.NO_KEY
    secrets.put_secret_value(SecretId=SECRET, SecretString=KEY)  # the re-issued key

    assert analyst.analyse(analysis_request()).analyst == OPENAI_ANALYST
    assert client.reads == 2
    assert [r.headers["authorization"] for r in recorder.requests] == [
        "Bearer sk-proj-revoked",
        f"Bearer {KEY}",
    ]
