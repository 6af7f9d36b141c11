"""Every number of the seed that the CDK app deploys, in one place.

Each group cites the section of `../shared/design/seed-infrastructure-design.md` it comes
from ("seed §N"). Values marked "ours" are not in the seed: they fill a gap the seed leaves
open, and the comment says why. The foundation (network, data, storage, secrets, events, DR)
comes first; compute, API, alarms and cost follow in their own section.
"""

from __future__ import annotations

from portfoliowise.handlers import metric_names

# --------------------------------------------------------------------------------------
# Foundation: regions, network, data, storage, secrets, events, DR
# --------------------------------------------------------------------------------------

# Regions. The seed draws us-west-2 as the primary region (seed §1, §6), the default; the
# product serves Japanese and US investors, so the primary region stays a setting (context
# `region`, e.g. ap-northeast-1). The DR region is the seed's (seed §6).
DEFAULT_PRIMARY_REGION = "us-west-2"
DR_REGION = "us-east-1"

# Resource names: the bus is `portfoliowise` (DESIGN.md "Events"); the tables default to the
# names the adapters fall back to (src/portfoliowise/adapters/dynamodb/tables.py).
NAME_PREFIX = "portfoliowise"
DEFAULT_STAGE = "prod"  # the stage whose resources carry the bare prefix

# Network (seed §2): VPC 10.0.0.0/16 over three AZs, three tiers of /26 subnets per AZ.
VPC_CIDR = "10.0.0.0/16"
AZ_COUNT = 3
SUBNET_MASK = 26
# The seed's AZs are "1a/1b/1c" of us-west-2; ap-northeast-1 has no AZ "b" for new accounts
# (its AZs are a, c and d), so the AZ letters are per region. Index i of a tier's CIDR list
# below is the i-th AZ of this list.
AZ_SUFFIXES: dict[str, tuple[str, str, str]] = {
    "ap-northeast-1": ("a", "c", "d"),
    "us-west-2": ("a", "b", "c"),
    "us-east-1": ("a", "b", "c"),
}
PUBLIC_SUBNET_GROUP = "public"  # IGW, NAT gateways
PRIVATE_SUBNET_GROUP = "private"  # Lambda ENIs
DATA_SUBNET_GROUP = "data"  # VPC endpoints (gateway routes; interface endpoint ENIs)
SUBNET_CIDRS: dict[str, tuple[str, str, str]] = {
    PUBLIC_SUBNET_GROUP: ("10.0.1.0/26", "10.0.1.64/26", "10.0.1.128/26"),
    PRIVATE_SUBNET_GROUP: ("10.0.10.0/26", "10.0.10.64/26", "10.0.10.128/26"),
    DATA_SUBNET_GROUP: ("10.0.20.0/26", "10.0.20.64/26", "10.0.20.128/26"),
}
HTTPS_PORT = 443  # Lambda SG: outbound 443 only, no inbound (seed §2)
HTTP_PORT = 80  # public NACL: allow 80/443 (seed §2)
# Return traffic of stateless NACLs (ours: the seed says "Restricted"; NACLs are stateless, so
# the responses to allowed 443 connections need the ephemeral port range).
EPHEMERAL_PORT_FROM = 1024
EPHEMERAL_PORT_TO = 65535
# NAT modes (seed §2 draws one NAT gateway per AZ; see config.py for the trade-off).
NAT_MODE_PER_AZ = "per-az"
NAT_MODE_SINGLE = "single"
NAT_MODE_NONE = "none"
NAT_MODES = (NAT_MODE_PER_AZ, NAT_MODE_SINGLE, NAT_MODE_NONE)
DEFAULT_NAT_MODE = NAT_MODE_SINGLE
# Interface endpoints (seed §2 "VPC Endpoint SG: inbound 443 from Lambda"), created when the
# `interfaceEndpoints` setting is on (NAT mode `none` without it runs every function outside
# the VPC, config.py): the AWS APIs the in-VPC functions call besides DynamoDB and S3 (which
# have free gateway endpoints).
INTERFACE_ENDPOINT_SERVICES = (
    "secretsmanager",
    "kms",
    "events",
    "sns",
    "xray",
    "lambda",
    "monitoring",  # CloudWatch metrics (cloudwatch:* actions)
    # CloudWatch Logs: a function's own log group is written by the Lambda service, but the
    # portfolio function writes the client logs to `/custom/application` itself.
    "logs",
)
# IAM action prefix -> endpoint service name, where they differ (tests/infra/test_vpc_reach.py).
IAM_PREFIX_ENDPOINT_SERVICE = {"cloudwatch": "monitoring"}
GATEWAY_ENDPOINT_SERVICES = ("dynamodb", "s3")
FLOW_LOGS_PREFIX = "vpc-flow-logs/"  # ours: VPC flow logs go to the logs bucket

# Data (seed §4; names, keys, GSIs and TTL attributes mirror
# src/portfoliowise/adapters/dynamodb/schema.py, which the tests compare against).
TTL_ATTRIBUTE = "ttl"
CACHE_TTL_HOURS = 1  # seed §1 "Cache Table TTL: 1hr" (the code writes `ttl`)
SESSION_TTL_HOURS = 24  # seed §1 "Session Table TTL: 24hr"
AUDIT_RETENTION_DAYS = 90  # seed §1 "Audit Table Retention: 90d"
TABLE_CACHE = "cache"
TABLE_SESSION = "session"
TABLE_PORTFOLIO = "portfolio"
TABLE_AUDIT = "audit"
# table -> (partition key, sort key or None)
TABLE_KEYS: dict[str, tuple[str, str | None]] = {
    TABLE_CACHE: ("cacheKey", "timestamp"),  # cacheKey = symbol#market
    TABLE_SESSION: ("sessionId", None),
    TABLE_PORTFOLIO: ("userId", "portfolioId"),
    TABLE_AUDIT: ("date", "timestampUserId"),  # timestampUserId = timestamp#userId
}
# table -> ((index name, partition key, sort key or None, projection, non-key attributes), ...)
GlobalIndex = tuple[str, str, str | None, str, tuple[str, ...]]
TABLE_INDEXES: dict[str, tuple[GlobalIndex, ...]] = {
    TABLE_CACHE: (
        ("market-timestamp-index", "market", "timestamp", "INCLUDE", ("asOf", "expiresAt")),
        ("ttl-index", TTL_ATTRIBUTE, None, "KEYS_ONLY", ()),
    ),
    TABLE_SESSION: (
        ("userId-index", "userId", None, "INCLUDE", ("expiresAt",)),
        ("expiresAt-index", "expiresAt", None, "KEYS_ONLY", ()),
    ),
    TABLE_PORTFOLIO: (
        ("portfolioId-index", "portfolioId", None, "KEYS_ONLY", ()),
        ("updatedAt-index", "userId", "updatedAt", "INCLUDE", ("name", "version")),
    ),
    TABLE_AUDIT: (
        ("userId-date-index", "userId", "date", "ALL", ()),
        ("action-date-index", "action", "date", "ALL", ()),
    ),
}
# Attribute types of every key attribute (S or N).
TABLE_ATTRIBUTE_TYPES: dict[str, dict[str, str]] = {
    TABLE_CACHE: {"cacheKey": "S", "timestamp": "S", "market": "S", TTL_ATTRIBUTE: "N"},
    TABLE_SESSION: {"sessionId": "S", "userId": "S", "expiresAt": "N"},
    TABLE_PORTFOLIO: {"userId": "S", "portfolioId": "S", "updatedAt": "S"},
    TABLE_AUDIT: {"date": "S", "timestampUserId": "S", "userId": "S", "action": "S"},
}
# Tables with a TTL attribute (Portfolio has none: PITR and the daily backup, seed §1).
TABLE_TTL: dict[str, str | None] = {
    TABLE_CACHE: TTL_ATTRIBUTE,
    TABLE_SESSION: TTL_ATTRIBUTE,
    TABLE_PORTFOLIO: None,
    TABLE_AUDIT: TTL_ATTRIBUTE,
}
# Tables whose loss loses user data: retained on stack deletion, deletion-protected.
TABLES_RETAINED = (TABLE_PORTFOLIO, TABLE_AUDIT)
PITR_RECOVERY_PERIOD_DAYS = 35  # ours: DynamoDB's maximum continuous-backup window

# Storage (seed §4).
BACKUP_DAILY_PREFIX = "daily/"
BACKUP_WEEKLY_PREFIX = "weekly/"
BACKUP_MONTHLY_PREFIX = "monthly/"
BACKUP_RETENTION_DAYS: dict[str, int] = {
    BACKUP_DAILY_PREFIX: 7,  # "Daily: 7 days"
    BACKUP_WEEKLY_PREFIX: 30,  # "Weekly: 30 days"
    BACKUP_MONTHLY_PREFIX: 365,  # "Monthly: 365 days"
}
# ours: an overwritten or deleted backup object stays recoverable this long (versioning is on
# because replication needs it).
BACKUP_NONCURRENT_VERSION_DAYS = 7
ABORT_INCOMPLETE_UPLOAD_DAYS = 1  # ours: multipart leftovers

LOG_PREFIXES = ("cloudfront/", "api-gateway/", "lambda/", "waf/")  # seed §4
S3_ACCESS_LOGS_PREFIX = "s3-access/"  # ours: server access logs of the other buckets
# Logs lifecycle, seed §4: "Standard: 7 days, IA: 30 days, Glacier: 90 days, Delete: 365 days".
# S3 refuses a transition to STANDARD_IA before day 30, so the seed's "Standard 7 d, then IA"
# is met with S3 Intelligent-Tiering (seed §7 names it): objects move to Intelligent-Tiering
# at day 7, which itself moves an object to its Infrequent Access tier after 30 days without
# access; Glacier Flexible Retrieval at day 90; deletion at day 365.
LOGS_INTELLIGENT_TIERING_DAYS = 7
LOGS_IA_AFTER_DAYS_WITHOUT_ACCESS = 30  # Intelligent-Tiering's fixed IA threshold (not set)
LOGS_GLACIER_DAYS = 90
LOGS_EXPIRATION_DAYS = 365
S3_MINIMUM_DAYS_BEFORE_STANDARD_IA = 30  # S3's rule, the reason for the above

# Secrets and configuration (seed §1 "Secrets Manager Auto-rotation", "Parameter Store").
SESSION_KEY_ROTATION_DAYS = 30  # ours: the seed asks for rotation without a period
SESSION_KEY_BYTES = 64  # a 512-bit HMAC key, base64url-encoded in the secret
SSM_PARAMETER_ROOT = "/portfoliowise"
ROTATION_FUNCTION_TIMEOUT_SECONDS = 30
ROTATION_FUNCTION_MEMORY_MB = 128
ROTATION_LOG_RETENTION_DAYS = 30  # seed §5: Lambda log groups keep 30 days
SECRET_RECOVERY_WINDOW_DAYS = 7  # ours: Secrets Manager's minimum deletion window

# Events (seed §3 "EventBridge Rules"; UTC, five-field crons as the seed writes them, the same
# as src/portfoliowise/application/scheduled_jobs.py SCHEDULES).
EVENT_BUS_NAME = NAME_PREFIX
SCHEDULES: dict[str, str] = {
    "cache-warm": "0 */6 * * *",
    "backup": "0 2 * * *",
    "cleanup": "0 3 * * SUN",
}
EVENT_SOURCE_PREFIX = "portfoliowise."  # `source` = portfoliowise.<context> (DESIGN.md)
PORTFOLIO_EVENT_SOURCE = "portfoliowise.portfolio"
# detail-type = the domain event's class name (src/portfoliowise/domain/events.py).
PORTFOLIO_EVENT_TYPES = (
    "PortfolioCreated",
    "PortfolioRenamed",
    "PortfolioSettingsChanged",
    "HoldingAdded",
    "HoldingChanged",
    "HoldingRemoved",
    "TargetsSet",
    "PortfolioDeleted",
    "PortfolioRestored",
    "ActivitiesChanged",
)
# The analysis context (src/portfoliowise/domain/analysis_jobs.py): the analysis function
# publishes `AnalysisRequested` when a user asks (`POST /portfolios/{id}/analysis`) and
# consumes it from the bus; `AnalysisCompleted` / `AnalysisFailed` are published by it and have
# no consumer yet (the archive keeps them).
ANALYSIS_EVENT_SOURCE = "portfoliowise.analysis"
ANALYSIS_REQUESTED = "AnalysisRequested"
ANALYSIS_EVENT_TYPES = (ANALYSIS_REQUESTED, "AnalysisCompleted", "AnalysisFailed")
# The jobs context (src/portfoliowise/domain/job_events.py): the scheduled function publishes
# one `JobCompleted` per run of a job, with its counts; no consumer yet (the archive keeps them).
JOB_EVENT_SOURCE = "portfoliowise.jobs"
JOB_EVENT_TYPES = ("JobCompleted",)
# How a failed analysis is retried, then parked in its own dead-letter queue (ours). Lambda
# retries an asynchronous invocation that failed at most twice, one minute and then two
# minutes later; a job claimed by a run that failed stays claimed for its lease
# (CLAIM_LEASE, 2 minutes, longer than the 60 s timeout), so only the second retry, about 3
# minutes after the failure, can claim it again: two retries, then the dead-letter queue.
# The same two apply to EventBridge's delivery of the event to the function.
ANALYSIS_RETRY_ATTEMPTS = 2
# The oldest an AnalysisRequested may be and still run (ours): room for the two retries
# (about 3 minutes) and for a backlog behind the function's reserved concurrency of 10 at up
# to 60 s each; an analysis later than that is parked rather than answered an hour late.
ANALYSIS_MAX_EVENT_AGE_MINUTES = 60
# Routes of domain events to their consumers: route name -> detail-types.
# "portfolio-changed": every change of a portfolio, to the scheduled function (backup of the
# changed portfolio; it dispatches on detail-type and is idempotent on detail.eventId).
DOMAIN_EVENT_ROUTES: dict[str, tuple[str, ...]] = {
    "portfolio-changed": PORTFOLIO_EVENT_TYPES,
}
EVENT_ARCHIVE_RETENTION_DAYS = 30  # ours: replay window of the bus archive
EVENT_TARGET_RETRY_ATTEMPTS = 3  # ours: then the dead-letter queue
EVENT_TARGET_MAX_AGE_HOURS = 2  # ours
DLQ_RETENTION_DAYS = 14  # ours: SQS maximum

# Disaster recovery (seed §6).
RTO_MINUTES = 60  # "RTO: 1 hour"
RPO_MINUTES = 5  # "RPO: 5 minutes"
AVAILABILITY_TARGET = 99.9  # "Availability Target 99.9% SLA"
HEALTH_CHECK_PATH = "/health"  # the API's liveness route (DESIGN.md)
HEALTH_CHECK_INTERVAL_SECONDS = 30  # ours: Route 53 standard interval
HEALTH_CHECK_FAILURE_THRESHOLD = 3  # ours: 3 x 30 s = 90 s to fail over
FAILOVER_RECORD_TTL_SECONDS = 60  # ours: short, so clients follow a failover quickly
API_RECORD_NAME = "api"  # the API's record under the domain: api.<domainName>


# =============================================================================================
# Compute, API, monitoring and cost (seed §3, §5, §7)
# Owned by compute.py, api.py, monitoring.py and cost.py; every number is the seed's unless
# its comment says where else it comes from.
# =============================================================================================


# Lambda functions (seed §3; Python 3.12 on arm64 replaces the seed's Node.js 18).
LAMBDA_FUNCTION_NAMES = ("market", "auth", "portfolio", "analysis", "scheduled")
# The functions behind API Gateway (scheduled is invoked by EventBridge rules only; analysis
# serves its two routes and also consumes AnalysisRequested from the bus).
LAMBDA_API_FUNCTION_NAMES = ("market", "auth", "portfolio", "analysis")
LAMBDA_MEMORY_MB: dict[str, int] = {
    "market": 256,
    "auth": 128,
    "portfolio": 256,
    "analysis": 512,
    "scheduled": 128,
}
LAMBDA_TIMEOUT_SECONDS: dict[str, int] = {
    "market": 30,
    "auth": 10,
    "portfolio": 10,
    "analysis": 60,
    "scheduled": 300,
}
# None: no reservation (the seed gives auth none; it draws from the unreserved pool).
LAMBDA_RESERVED_CONCURRENCY: dict[str, int | None] = {
    "market": 100,
    "auth": None,
    "portfolio": 50,
    "analysis": 10,
    "scheduled": 1,
}
LAMBDA_DESCRIPTIONS: dict[str, str] = {
    "market": "Market data: quotes, history, FX rates and the quote cache",
    "auth": "Google sign-in and sessions",
    "portfolio": "Portfolios: CRUD, valuation, allocation, simulation, audit, import/export",
    "analysis": "AI portfolio analysis: asynchronous jobs (API routes and AnalysisRequested)",
    "scheduled": "Scheduled jobs: cache warm, backup, cleanup",
}
LAMBDA_LOG_RETENTION_DAYS = 30  # seed §5: /aws/lambda/* 30d
LAMBDA_HANDLER_PACKAGE = "portfoliowise.handlers.lambdas"  # <package>.<function>.handler
# Functions that must reach the internet: outside the VPC when the private subnets have no NAT
# (market: quote sources; auth: Google; analysis: the OpenAI API). With NAT mode `none` and
# no interface endpoints every function runs outside the VPC (config.Settings.functions_in_vpc).
LAMBDA_NEEDS_INTERNET = frozenset({"market", "auth", "analysis"})
# The model the analysis function asks (OPENAI_MODEL; the code's default is the same,
# src/portfoliowise/handlers/settings.py DEFAULT_OPENAI_MODEL).
OPENAI_MODEL = "gpt-4.1-mini"
# Analysis jobs live in the Cache table (src/portfoliowise/domain/analysis_jobs.py): partition
# key `cacheKey` = "{jobId}#ANALYSIS", sort key `timestamp` = "job", expired by the table's
# TTL after 30 days. The analysis function may write those items and no other (an IAM
# condition on dynamodb:LeadingKeys matching this pattern, see compute.py).
ANALYSIS_JOB_KEY_SUFFIX = "#ANALYSIS"
ANALYSIS_JOB_SORT_KEY = "job"
CLIENT_IP_HEADER = "CloudFront-Viewer-Address"  # added by CloudFront, forwarded to the API
# Backup prefixes each function may write (the portfolio function's on-demand backups go
# under daily/; the scheduled backup writes and copies all three, and the cache-warm job
# keeps the JPX symbol master under reference/, a prefix no lifecycle rule expires).
REFERENCE_PREFIX = "reference/"
BACKUP_PREFIXES_WRITTEN_BY_PORTFOLIO = (BACKUP_DAILY_PREFIX,)
BACKUP_PREFIXES_WRITTEN_BY_SCHEDULED = (
    BACKUP_DAILY_PREFIX,
    BACKUP_WEEKLY_PREFIX,
    BACKUP_MONTHLY_PREFIX,
    REFERENCE_PREFIX,
)

# -- API (seed §1, §5) --------------------------------------------------------------------------
API_STAGE_NAME = "v1"
API_ACCESS_LOG_RETENTION_DAYS = 7  # seed §5: /aws/apigateway/* 7d
# Stage throttling: the seed's reserved concurrency bounds what the functions can run at once
# (market 100 + portfolio 50 + analysis 10 + auth from the unreserved pool). At ~10 s worst
# case (portfolio timeout) and ~0.1-0.3 s typical, 100 requests/s steady with a burst of 200
# keeps the API inside that concurrency while being far above the seed's ~1M requests/month
# (~0.4 requests/s on average, seed §7).
API_THROTTLE_RATE_PER_SECOND = 100
API_THROTTLE_BURST = 200
# Per-route limit on starting an AI analysis (`POST /portfolios/{id}/analysis`): each start
# becomes a run of up to 60 s on a function with reserved concurrency 10, so about 2 starts/s
# with a burst of 10 (ours, from the seed's numbers).
API_ANALYSIS_THROTTLE_RATE_PER_SECOND = 2
API_ANALYSIS_THROTTLE_BURST = 10
# CloudFront caching of market data only; TTLs follow the quote cache (seed §4: Cache TTL 1 hr).
MARKET_CACHE_DEFAULT_TTL_SECONDS = 60
MARKET_CACHE_MAX_TTL_SECONDS = 3600
# WAF rate-based rule: requests per client IP per 5-minute window (WAF's evaluation window).
# 2,000 / 5 min (~6.7/s per IP) is far above an SPA user's traffic and stops scripted abuse
# (seed §7 "Smart Rate Limiting - Prevent Abuse - Control Costs").
WAF_RATE_LIMIT_PER_5_MIN = 2000
WAF_RATE_WINDOW_SECONDS = 300
WAF_COMMON_RULE_NAME = "AWSManagedRulesCommonRuleSet"
WAF_RATE_RULE_NAME = "RateLimitPerClient"

# -- Monitoring (seed §5) -----------------------------------------------------------------------
METRICS_NAMESPACE = metric_names.NAMESPACE  # custom metrics, Embedded Metric Format
ALERT_TOPIC_NAMES = ("critical-alerts", "warning-alerts", "info-notifications")
CUSTOM_LOG_GROUP_NAME = "/custom/application"
CUSTOM_LOG_RETENTION_DAYS = 14  # seed §5: /custom/application 14d
ALARM_PERIOD_SECONDS = 60
# Critical
ALARM_ERROR_RATE_PERCENT = 1  # error rate > 1 %
ALARM_DURATION_FRACTION_OF_TIMEOUT = 0.5  # Lambda duration > 50 % of its timeout
ALARM_API_5XX_PER_MINUTE = 10  # API 5xx > 10/min
# Warning
ALARM_LATENCY_MS = 2000  # latency > 2 s
ALARM_CACHE_MISS_PERCENT = 50  # cache miss > 50 %
ALARM_MEMORY_PERCENT = 80  # memory > 80 %
# ours: any message visible in a dead-letter queue (Maximum over 5 minutes): an event that
# was not handled and waits for someone to look (events.py).
ALARM_DLQ_VISIBLE_MESSAGES = 0
# Info: thresholds of "large portfolio change" and "unusual activity" (the seed names the
# alarms only). The code decides and counts them (src/portfoliowise/domain/signals.py,
# LARGE_CHANGE_PERCENT and UNUSUAL_WRITES_PER_HOUR, which a test compares with these): a
# valuation total more than 10 % away from the previous valuation, and more than 100
# portfolio writes by one user within an hour. The alarms fire on any occurrence of the
# counter; these numbers only describe them.
INFO_LARGE_PORTFOLIO_CHANGE_PERCENT = 10
INFO_UNUSUAL_ACTIVITY_WRITES_PER_HOUR = 100

# Custom metrics the code emits (EMF, namespace METRICS_NAMESPACE, dimension "service" = the
# function's POWERTOOLS_SERVICE_NAME): named once, in the product's catalog
# (src/portfoliowise/handlers/metric_names.py, which says which function emits each); these
# are aliases of its names.
METRIC_CACHE_HITS = metric_names.CACHE_HITS
METRIC_CACHE_MISSES = metric_names.CACHE_MISSES
METRIC_SIGN_UPS = metric_names.SIGN_UPS
METRIC_SIGN_INS = metric_names.SIGN_INS
METRIC_AUTH_FAILURES = metric_names.AUTH_FAILURES
METRIC_LARGE_PORTFOLIO_CHANGES = metric_names.LARGE_PORTFOLIO_CHANGES
METRIC_UNUSUAL_ACTIVITY = metric_names.UNUSUAL_ACTIVITY
METRIC_PORTFOLIO_WRITES = metric_names.PORTFOLIO_WRITES
METRIC_PORTFOLIO_VALUE_JPY = metric_names.PORTFOLIO_VALUE_JPY
METRIC_API_REQUESTS = metric_names.API_REQUESTS
METRIC_SOURCE_FAILURES = metric_names.SOURCE_FAILURES
EMF_SERVICE_DIMENSION = metric_names.SERVICE_DIMENSION
