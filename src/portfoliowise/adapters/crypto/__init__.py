"""Envelope encryption of provider tokens: KMS in AWS, a local key file in the local mode."""

from portfoliowise.adapters.crypto.envelope import (
    KmsTokenCipher,
    LocalTokenCipher,
    UnreadableCiphertext,
    load_or_create_key,
)

__all__ = ["KmsTokenCipher", "LocalTokenCipher", "UnreadableCiphertext", "load_or_create_key"]
