"""Google sign-in (OAuth 2.0 authorization code with PKCE, ID token verified with PyJWT)."""

from portfoliowise.adapters.google.oauth import (
    GOOGLE_ISSUERS,
    GOOGLE_JWKS_URL,
    GOOGLE_TOKEN_URL,
    GoogleIdentityProvider,
    GoogleKeys,
)

__all__ = [
    "GOOGLE_ISSUERS",
    "GOOGLE_JWKS_URL",
    "GOOGLE_TOKEN_URL",
    "GoogleIdentityProvider",
    "GoogleKeys",
]
