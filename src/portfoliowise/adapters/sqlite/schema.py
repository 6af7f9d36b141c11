"""The embedded store's schema: the migrations that build it, applied in order (the file's
`PRAGMA user_version` is how many have been applied). Append a migration to change the
schema; never edit one that has shipped.

Tables and indexes mirror the DynamoDB design (same key values and index names):
- `Portfolio` (`userId`, `portfolioId`): the document (`Portfolio.to_json`, decimals as
  strings) with `version` and `updatedAt`; `portfolioId-index`, `updatedAt-index`.
- `Audit` (`date`, `sortKey` = `timestamp#userId`): one row per entry, `changes` as JSON,
  `ttl` in epoch seconds; `userId-date-index`, `action-date-index`, `audit-ttl-index`.
- `Session` (`sessionId` = hash of the cookie value): `userId`, `expiresAt` (epoch
  microseconds), `ttl`, tokens as BLOBs; `userId-index`, `expiresAt-index`.
- `Cache` (`cacheKey` = `symbol#market`, one row per instrument, `timestamp` of the write):
  the latest quote with decimals as TEXT (exact); `market-timestamp-index`, `ttl-index`.
- `analysis_jobs` (`jobId`), migration 2: one row per analysis job (DynamoDB keeps them
  in the Cache table as `{jobId}#ANALYSIS`, whose quote columns they do not have):
  `status`, `claimedBy`, `claimedUntil` and `expiresAt` (epoch microseconds, exact), `ttl`,
  `report` as JSON text; `analysis-jobs-ttl-index`.
- `users` (`userId`), migration 3: one row per user ever signed in, with `firstSeenAt`
  (UTC ISO 8601), so that a first sign-in (a sign-up) is told from a returning user
  (DynamoDB keeps them in the Session table as `user#<sha256 of userId>`).
- migration 4: `Portfolio.totalValue` (TEXT, exact, in the base currency) and `valuedAt`,
  the latest valuation (`record_valuation`), NULL until one is kept and after a change.
- migration 5: `Session.profile` (BLOB, encrypted), `refreshHash`, `previousRefreshHash`
  and `rotatedAt` (epoch microseconds): the profile and the refresh-token rotation.
- `Activity` (`userId`, `portfolioId`, `activityId`), migration 6: one row per activity
  (`day`, the document as JSON); `ActivityBatch` (`userId`, `portfolioId`, `batchId`): the
  imports applied (DynamoDB keeps both in the Portfolio table, in the portfolio's own
  partition `userId#portfolioId`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "the four tables of the design",
        (
            """CREATE TABLE Portfolio (
                userId TEXT NOT NULL,
                portfolioId TEXT NOT NULL,
                version INTEGER NOT NULL CHECK (version > 0),
                updatedAt TEXT NOT NULL,
                document TEXT NOT NULL,
                PRIMARY KEY (userId, portfolioId)
            )""",
            'CREATE INDEX "portfolioId-index" ON Portfolio (portfolioId)',
            'CREATE INDEX "updatedAt-index" ON Portfolio (updatedAt)',
            """CREATE TABLE Audit (
                date TEXT NOT NULL,
                sortKey TEXT NOT NULL,
                timestamp TEXT NOT NULL,
                userId TEXT NOT NULL,
                "action" TEXT NOT NULL,
                resource TEXT NOT NULL,
                changes TEXT NOT NULL,
                ip TEXT NOT NULL,
                userAgent TEXT NOT NULL,
                eventId TEXT NOT NULL,
                ttl INTEGER NOT NULL,
                PRIMARY KEY (date, sortKey)
            )""",
            'CREATE INDEX "userId-date-index" ON Audit (userId, date, timestamp)',
            'CREATE INDEX "action-date-index" ON Audit ("action", date)',
            'CREATE INDEX "audit-ttl-index" ON Audit (ttl)',
            """CREATE TABLE Session (
                sessionId TEXT NOT NULL PRIMARY KEY,
                userId TEXT NOT NULL,
                expiresAt INTEGER NOT NULL,
                ttl INTEGER NOT NULL,
                accessToken BLOB NOT NULL,
                refreshToken BLOB NOT NULL
            )""",
            'CREATE INDEX "userId-index" ON Session (userId)',
            'CREATE INDEX "expiresAt-index" ON Session (expiresAt)',
            """CREATE TABLE Cache (
                cacheKey TEXT NOT NULL PRIMARY KEY,
                timestamp TEXT NOT NULL,
                symbol TEXT NOT NULL,
                market TEXT NOT NULL,
                price TEXT NOT NULL,
                currency TEXT NOT NULL,
                change TEXT,
                changePercent TEXT,
                volume TEXT,
                name TEXT,
                source TEXT NOT NULL,
                status TEXT NOT NULL,
                asOf TEXT,
                expiresAt INTEGER NOT NULL,
                ttl INTEGER NOT NULL
            )""",
            'CREATE INDEX "market-timestamp-index" ON Cache (market, timestamp)',
            'CREATE INDEX "ttl-index" ON Cache (ttl)',
        ),
    ),
    Migration(
        "analysis jobs",
        (
            """CREATE TABLE analysis_jobs (
                jobId TEXT NOT NULL PRIMARY KEY,
                userId TEXT NOT NULL,
                portfolioId TEXT NOT NULL,
                status TEXT NOT NULL
                    CHECK (status IN ('pending', 'running', 'done', 'failed')),
                language TEXT NOT NULL,
                kind TEXT NOT NULL,
                createdAt TEXT NOT NULL,
                updatedAt TEXT NOT NULL,
                expiresAt INTEGER NOT NULL,
                ttl INTEGER NOT NULL,
                report TEXT,
                error TEXT,
                claimedUntil INTEGER,
                claimedBy TEXT
            )""",
            'CREATE INDEX "analysis-jobs-ttl-index" ON analysis_jobs (ttl)',
        ),
    ),
    Migration(
        "users seen (sign-ups)",
        (
            """CREATE TABLE users (
                userId TEXT NOT NULL PRIMARY KEY,
                firstSeenAt TEXT NOT NULL
            )""",
        ),
    ),
    Migration(
        "the latest valuation of a portfolio",
        (
            "ALTER TABLE Portfolio ADD COLUMN totalValue TEXT",
            "ALTER TABLE Portfolio ADD COLUMN valuedAt TEXT",
        ),
    ),
    Migration(
        "the session's profile and refresh-token rotation",
        (
            "ALTER TABLE Session ADD COLUMN profile BLOB NOT NULL DEFAULT x''",
            "ALTER TABLE Session ADD COLUMN refreshHash TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE Session ADD COLUMN previousRefreshHash TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE Session ADD COLUMN rotatedAt INTEGER",
        ),
    ),
    Migration(
        "activities",
        (
            """CREATE TABLE Activity (
                userId TEXT NOT NULL,
                portfolioId TEXT NOT NULL,
                activityId TEXT NOT NULL,
                day TEXT NOT NULL,
                document TEXT NOT NULL,
                PRIMARY KEY (userId, portfolioId, activityId)
            )""",
            """CREATE TABLE ActivityBatch (
                userId TEXT NOT NULL,
                portfolioId TEXT NOT NULL,
                batchId TEXT NOT NULL,
                PRIMARY KEY (userId, portfolioId, batchId)
            )""",
        ),
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes (and the newest it can open)."""
