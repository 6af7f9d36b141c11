"""Envelope encryption of small secrets (Google's access and refresh tokens) at rest.

Every blob is AES-256-GCM under a 256-bit key, with the caller's `context` as associated
data, in one self-describing byte string:

    KMS:   b"\\x01" b"K" | len(encrypted data key): 2 bytes big-endian | encrypted data key
           | nonce: 12 bytes | ciphertext + tag
    local: b"\\x01" b"L" | nonce: 12 bytes | ciphertext + tag

- `KmsTokenCipher`: a fresh data key per blob from KMS `GenerateDataKey` (AES_256), with the
  encryption context `{"purpose": "portfoliowise-session-token", "context": <context>}`; the
  plaintext key is used once and dropped, KMS `Decrypt` recovers it on read.
- `LocalTokenCipher`: one key kept in a file of the data dir (created on first use, mode
  0600, refused when readable by others), for the embedded local mode.
"""

from __future__ import annotations

import os
import secrets
import stat
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portfoliowise.domain.errors import DomainError, SourceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

VERSION = 1
KIND_KMS = b"K"
KIND_LOCAL = b"L"
NONCE_BYTES = 12
KEY_BYTES = 32
PURPOSE = "portfoliowise-session-token"
LOCAL_KEY_FILE = "session-token.key"

_HEADER_KMS = bytes([VERSION]) + KIND_KMS
_HEADER_LOCAL = bytes([VERSION]) + KIND_LOCAL


class UnreadableCiphertext(DomainError):
    """A blob that is not ours, was tampered with, or was encrypted under another context or
    key."""

    code = "unreadable_ciphertext"


def _seal(key: bytes, plaintext: bytes, context: str) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode("utf-8"))


def _open(key: bytes, sealed: bytes, context: str) -> bytes:
    if len(sealed) < NONCE_BYTES + 16:
        raise UnreadableCiphertext("ciphertext too short")
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, body, context.encode("utf-8"))
    except InvalidTag as exc:
        raise UnreadableCiphertext("ciphertext does not authenticate") from exc


class KmsTokenCipher:
    """`TokenCipher` with a KMS data key per blob (envelope encryption)."""

    def __init__(self, client: KMSClient, key_id: str) -> None:
        if not key_id:
            raise ValueError("a KMS key id or ARN is needed")
        self._client = client
        self._key_id = key_id

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes:
        try:
            response = self._client.generate_data_key(
                KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=self._context(context)
            )
        except (ClientError, BotoCoreError) as exc:
            raise SourceUnavailable(f"KMS GenerateDataKey failed: {_reason(exc)}") from exc
        data_key = response["Plaintext"]
        encrypted_key = response["CiphertextBlob"]
        sealed = _seal(data_key, plaintext, context)
        return _HEADER_KMS + struct.pack(">H", len(encrypted_key)) + encrypted_key + sealed

    def decrypt(self, blob: bytes, *, context: str) -> bytes:
        if blob[:2] != _HEADER_KMS or len(blob) < 4:
            raise UnreadableCiphertext("not a KMS envelope blob")
        (length,) = struct.unpack(">H", blob[2:4])
        encrypted_key, sealed = blob[4 : 4 + length], blob[4 + length :]
        if len(encrypted_key) != length:
            raise UnreadableCiphertext("truncated KMS envelope blob")
        try:
            response = self._client.decrypt(
                CiphertextBlob=encrypted_key,
                KeyId=self._key_id,
                EncryptionContext=self._context(context),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {
                "InvalidCiphertextException",
                "IncorrectKeyException",
            }:
                raise UnreadableCiphertext("KMS refused the data key") from exc
            raise SourceUnavailable(f"KMS Decrypt failed: {_reason(exc)}") from exc
        except BotoCoreError as exc:
            raise SourceUnavailable(f"KMS Decrypt failed: {_reason(exc)}") from exc
        return _open(response["Plaintext"], sealed, context)

    @staticmethod
    def _context(context: str) -> dict[str, str]:
        return {"purpose": PURPOSE, "context": context}


class LocalTokenCipher:
    """`TokenCipher` with one local AES-256 key (the embedded local mode)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"the local token key must be {KEY_BYTES} bytes")
        self._key = key

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> LocalTokenCipher:
        return cls(load_or_create_key(Path(data_dir) / LOCAL_KEY_FILE, KEY_BYTES))

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes:
        return _HEADER_LOCAL + _seal(self._key, plaintext, context)

    def decrypt(self, blob: bytes, *, context: str) -> bytes:
        if blob[:2] != _HEADER_LOCAL:
            raise UnreadableCiphertext("not a local-key blob")
        return _open(self._key, blob[2:], context)


def load_or_create_key(path: Path, size: int = KEY_BYTES) -> bytes:
    """The random key kept in `path`, created (`size` random bytes, mode 0600, exclusively,
    so two processes starting together agree) when absent. Refuses a key file of the wrong
    size or, on POSIX, one that group or others can read or write."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written in full under a temporary name, then linked into place: a concurrent
        # reader sees either no file or the whole key, and the first link wins.
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                os.write(fd, secrets.token_bytes(size))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    if os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise PermissionError(
                f"{path} is accessible to other users (mode {mode:o}); run chmod 600 on it"
            )
    key = path.read_bytes()
    if len(key) != size:
        raise ValueError(f"{path} holds {len(key)} bytes, not a {size}-byte key")
    return key


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "error"))
    return type(exc).__name__
