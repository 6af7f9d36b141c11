"""One boto3 session per process for every AWS client the adapters make (DynamoDB, S3,
EventBridge, SNS, and whatever `boto3.client` builds): boto3's default session.

Each botocore session loads and keeps its own copy of the endpoint data and of every service
model it is asked for (about 10 MiB each time): a session per client multiplied that in
128 MB functions. Session methods are not thread-safe, so clients are made under `lock`;
the clients themselves are thread-safe and meant to be shared."""

from __future__ import annotations

import threading

import boto3

lock = threading.RLock()
"""Held while a client is made from `session()` (and while the session is created)."""


def session() -> boto3.session.Session:
    """The process's session, created on first use (also the one behind `boto3.client`)."""
    with lock:
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        found = boto3.DEFAULT_SESSION
    assert found is not None
    return found
