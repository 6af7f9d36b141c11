"""Our access tokens as JWTs (RFC 7519) with PyJWT: HS256, the signing key's id in the
`kid` header, so that a token signed before a key rotation still verifies with the previous
key until it expires. Time claims are checked by the use case (it has the clock)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jwt

from portfoliowise.domain.errors import Unauthenticated

ALGORITHM = "HS256"


class JwtAccessTokenCodec:
    """`AccessTokenCodec` over PyJWT."""

    def encode(self, claims: Mapping[str, object], key: bytes, key_id: str) -> str:
        return jwt.encode(dict(claims), key, algorithm=ALGORITHM, headers={"kid": key_id})

    def decode(self, token: str, key_for: Callable[[str], bytes | None]) -> dict[str, object]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("Invalid token: malformed") from exc
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise Unauthenticated("Invalid token: not one of ours")
        key = key_for(kid)
        if key is None:
            raise Unauthenticated("Invalid token: signed with an unknown key")
        try:
            claims: dict[str, object] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                },
            )
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("Invalid token: the signature does not verify") from exc
        return claims
