"""Envelope encryption of the provider tokens: KMS (through moto) and the local key file."""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from portfoliowise.adapters.crypto import (
    KmsTokenCipher,
    LocalTokenCipher,
    UnreadableCiphertext,
    load_or_create_key,
)
from portfoliowise.adapters.crypto.envelope import LOCAL_KEY_FILE
from portfoliowise.domain.errors import SourceUnavailable

SECRET = b"ya29.a0AfH6SMB-google-access-token"


@pytest.fixture
def kms() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("kms", region_name="ap-northeast-1")


@pytest.fixture
def key_id(kms: Any) -> str:
    return str(kms.create_key(Description="session tokens")["KeyMetadata"]["KeyId"])


def test_kms_round_trip(kms: Any, key_id: str) -> None:
    cipher = KmsTokenCipher(kms, key_id)

    blob = cipher.encrypt(SECRET, context="user:google:1")

    assert SECRET not in blob
    assert blob[:2] == b"\x01K"
    assert cipher.decrypt(blob, context="user:google:1") == SECRET


def test_kms_blob_holds_the_encrypted_data_key_nonce_and_ciphertext(kms: Any, key_id: str) -> None:
    blob = KmsTokenCipher(kms, key_id).encrypt(SECRET, context="c")

    (length,) = struct.unpack(">H", blob[2:4])
    encrypted_key = blob[4 : 4 + length]
    rest = blob[4 + length :]
    assert length > 32  # a KMS ciphertext blob, not the plaintext data key
    assert len(rest) == 12 + len(SECRET) + 16  # nonce + ciphertext + GCM tag
    plaintext_key = kms.decrypt(
        CiphertextBlob=encrypted_key,
        EncryptionContext={"purpose": "portfoliowise-session-token", "context": "c"},
    )["Plaintext"]
    assert len(plaintext_key) == 32  # AES-256


def test_each_kms_blob_has_its_own_data_key(kms: Any, key_id: str) -> None:
    cipher = KmsTokenCipher(kms, key_id)

    assert cipher.encrypt(SECRET, context="c") != cipher.encrypt(SECRET, context="c")


def test_kms_blob_with_another_context_or_tampered_does_not_decrypt(kms: Any, key_id: str) -> None:
    cipher = KmsTokenCipher(kms, key_id)
    blob = cipher.encrypt(SECRET, context="user:a")

    with pytest.raises(UnreadableCiphertext):
        cipher.decrypt(blob, context="user:b")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(UnreadableCiphertext):
        cipher.decrypt(tampered, context="user:a")
    with pytest.raises(UnreadableCiphertext):
        cipher.decrypt(b"\x01L" + blob[2:], context="user:a")


def test_kms_unknown_key_is_source_unavailable(kms: Any) -> None:
    cipher = KmsTokenCipher(kms, "arn:aws:kms:ap-northeast-1:123456789012:key/does-not-exist")

    with pytest.raises(SourceUnavailable):
        cipher.encrypt(SECRET, context="c")


def test_local_round_trip_and_context_binding(tmp_path: Path) -> None:
    cipher = LocalTokenCipher.from_data_dir(tmp_path)

    blob = cipher.encrypt(SECRET, context="user:a")

    assert blob[:2] == b"\x01L"
    assert SECRET not in blob
    assert cipher.decrypt(blob, context="user:a") == SECRET
    with pytest.raises(UnreadableCiphertext):
        cipher.decrypt(blob, context="user:b")


def test_the_local_key_survives_a_restart(tmp_path: Path) -> None:
    blob = LocalTokenCipher.from_data_dir(tmp_path).encrypt(SECRET, context="c")

    assert LocalTokenCipher.from_data_dir(tmp_path).decrypt(blob, context="c") == SECRET


def test_another_local_key_cannot_decrypt(tmp_path: Path) -> None:
    blob = LocalTokenCipher.from_data_dir(tmp_path / "a").encrypt(SECRET, context="c")

    with pytest.raises(UnreadableCiphertext):
        LocalTokenCipher.from_data_dir(tmp_path / "b").decrypt(blob, context="c")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_the_local_key_file_is_created_with_mode_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"

    LocalTokenCipher.from_data_dir(data_dir)

    key_file = data_dir / LOCAL_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_bytes()) == 32
    assert [p.name for p in data_dir.iterdir()] == [LOCAL_KEY_FILE]  # no temporary left


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / LOCAL_KEY_FILE
    load_or_create_key(key_file)
    key_file.chmod(0o644)

    with pytest.raises(PermissionError):
        LocalTokenCipher.from_data_dir(tmp_path)


def test_a_key_file_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / LOCAL_KEY_FILE
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"short")
    os.close(fd)

    with pytest.raises(ValueError, match="bytes"):
        LocalTokenCipher.from_data_dir(tmp_path)
