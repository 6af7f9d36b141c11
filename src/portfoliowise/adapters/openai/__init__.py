"""The OpenAI analyst (Responses API, structured output) and its key from Secrets Manager.

Importing this package does not import the OpenAI SDK: the analyst imports it on its first
analysis, so only the analysis function ever loads it."""

from portfoliowise.adapters.openai.analyst import (
    BUDGET_SECONDS,
    DEFAULT_MODEL,
    MAX_RETRIES,
    TIMEOUT_SECONDS,
    OpenAIAnalyst,
    PortfolioAnalysis,
    SuggestionAnswer,
)
from portfoliowise.adapters.openai.secret import (
    SecretApiKey,
    SecretsClient,
    api_key_from_secret,
    secret_api_key,
)

__all__ = [
    "BUDGET_SECONDS",
    "DEFAULT_MODEL",
    "MAX_RETRIES",
    "TIMEOUT_SECONDS",
    "OpenAIAnalyst",
    "PortfolioAnalysis",
    "SecretApiKey",
    "SecretsClient",
    "SuggestionAnswer",
    "api_key_from_secret",
    "secret_api_key",
]
