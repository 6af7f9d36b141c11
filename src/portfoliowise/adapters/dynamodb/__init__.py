"""DynamoDB adapters (AWS mode): the Portfolio, Audit, Session and Cache tables of the
design (analysis jobs live in the Cache table), over boto3's low-level client. Key formats
live only in this package."""

from portfoliowise.adapters.dynamodb.analysis_jobs import DynamoAnalysisJobs
from portfoliowise.adapters.dynamodb.attempts import DynamoAttemptLimiter
from portfoliowise.adapters.dynamodb.audit import DynamoAuditLog
from portfoliowise.adapters.dynamodb.batch import Backoff
from portfoliowise.adapters.dynamodb.client import dynamodb_client
from portfoliowise.adapters.dynamodb.portfolios import DynamoPortfolioRepository
from portfoliowise.adapters.dynamodb.quotes import DynamoQuoteCache
from portfoliowise.adapters.dynamodb.schema import TABLES, create_tables
from portfoliowise.adapters.dynamodb.sessions import DynamoSessionStore
from portfoliowise.adapters.dynamodb.tables import TableNames
from portfoliowise.adapters.dynamodb.users import DynamoUserRegistry

__all__ = [
    "TABLES",
    "Backoff",
    "DynamoAnalysisJobs",
    "DynamoAttemptLimiter",
    "DynamoAuditLog",
    "DynamoPortfolioRepository",
    "DynamoQuoteCache",
    "DynamoSessionStore",
    "DynamoUserRegistry",
    "TableNames",
    "create_tables",
    "dynamodb_client",
]
