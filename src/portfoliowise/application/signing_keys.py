"""The session-signing keys (current first, then previous ones): what CSRF tokens and
access tokens are derived from. `SigningKeys` follows a rotation; `KeyRing` gives both
uses one view of fixed keys or rotating ones.

Standard library only."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

_MIN_SIGNING_KEY_BYTES = 32


def checked_keys(signing_keys: Sequence[bytes]) -> tuple[bytes, ...]:
    keys = tuple(bytes(k) for k in signing_keys if k)
    if not keys:
        raise ValueError("at least one session-signing key is needed")
    if any(len(k) < _MIN_SIGNING_KEY_BYTES for k in keys):
        raise ValueError(f"session-signing keys need {_MIN_SIGNING_KEY_BYTES} bytes or more")
    return keys


class SigningKeys:
    """Session-signing keys (current first) that follow a rotation: reloaded with `load`
    every `max_age` seconds, and early, at most every `min_interval` seconds, when a token
    does not verify (another instance may already sign with the new key). A failing reload
    keeps the keys it has."""

    def __init__(
        self,
        load: Callable[[], Sequence[bytes]],
        *,
        max_age: float = 300.0,
        min_interval: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._max_age = max_age
        self._min_interval = min_interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._keys = checked_keys(load())
        self._loaded_at = monotonic()

    def current(self) -> tuple[bytes, ...]:
        if self._monotonic() - self._loaded_at >= self._max_age:
            self._reload()
        return self._keys

    def reload_early(self) -> bool:
        """Reload now unless done less than `min_interval` ago; True when the keys changed."""
        if self._monotonic() - self._loaded_at < self._min_interval:
            return False
        before = self._keys
        self._reload()
        return self._keys != before

    def _reload(self) -> None:
        with self._lock:
            self._loaded_at = self._monotonic()
            try:
                self._keys = checked_keys(self._load())
            except Exception:  # a secret store outage must not sign everybody out
                log.warning("reloading the session-signing keys failed; keeping the old ones")


class KeyRing:
    """Fixed keys, or a `SigningKeys` that follows rotations."""

    def __init__(self, signing_keys: Sequence[bytes] | SigningKeys) -> None:
        if isinstance(signing_keys, SigningKeys):
            self._source: SigningKeys | None = signing_keys
            self._fixed: tuple[bytes, ...] = ()
        else:
            self._source = None
            self._fixed = checked_keys(signing_keys)

    def current(self) -> tuple[bytes, ...]:
        return self._source.current() if self._source is not None else self._fixed

    def reload_early(self) -> bool:
        """Reload rotating keys now (rate-limited); True when they changed."""
        return self._source is not None and self._source.reload_early()
