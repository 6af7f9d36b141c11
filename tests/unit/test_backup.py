"""Backup and restore over the in-memory blob store and repository."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, date, datetime

import pytest

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.memory import (
    InMemoryAuditLog,
    InMemoryBlobStore,
    InMemoryPortfolioRepository,
)
from portfoliowise.application import backup
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.errors import BackupCorrupt, NotFoundError, ValidationError
from portfoliowise.domain.money import JPY
from portfoliowise.domain.portfolio import Holding, Portfolio

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # a Saturday
CONTEXT = RequestContext()


def _repo(*owners: tuple[str, str]) -> InMemoryPortfolioRepository:
    repo = InMemoryPortfolioRepository(InMemoryAuditLog())
    for user_id, portfolio_id in owners:
        portfolio = Portfolio.create(
            user_id=user_id,
            portfolio_id=portfolio_id,
            name=f"{user_id} {portfolio_id}",
            base_currency=JPY,
            at=T0,
            holdings=[Holding.of("7203", "100"), Holding.of("0331418A", "10000")],
        )
        repo.add(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))
    return repo


def _key(blobs: InMemoryBlobStore, user_id: str, prefix: str = "daily/2026-11-28/") -> str:
    """The key of `user_id`'s object, as the backup's manifest names it."""
    manifest = json.loads(blobs.get(prefix + "manifest.json"))
    (key,) = [o["key"] for o in manifest["objects"] if o["userId"] == user_id]
    return prefix + str(key)


def test_a_daily_backup_writes_one_object_per_user_and_a_manifest() -> None:
    blobs = InMemoryBlobStore()
    report = backup.run_backup(_repo(("u1", "a"), ("u1", "b"), ("u2", "a")), blobs, T0.date())
    assert blobs.list("") == [
        "daily/2026-11-28/manifest.json",
        _key(blobs, "u1"),
        _key(blobs, "u2"),
    ]
    # named by content: user, then the first 16 hex digits of the object's sha256
    assert re.fullmatch(r"daily/2026-11-28/u1/[0-9a-f]{16}\.json\.gz", _key(blobs, "u1"))
    assert (report.users, report.portfolios, report.objects) == (2, 3, 3)
    manifest = json.loads(blobs.get("daily/2026-11-28/manifest.json"))
    assert manifest["portfolios"] == 3
    assert [o["portfolios"] for o in manifest["objects"]] == [2, 1]
    body = gzip.decompress(blobs.get(_key(blobs, "u1")))
    assert [p["portfolioId"] for p in json.loads(body)["portfolios"]] == ["a", "b"]


def test_the_same_date_twice_gives_the_same_keys_and_bytes() -> None:
    repo = _repo(("u1", "a"), ("u2", "b"))
    first, second = InMemoryBlobStore(), InMemoryBlobStore()
    backup.run_backup(repo, first, date(2026, 11, 28))
    backup.run_backup(repo, second, date(2026, 11, 28))
    assert first.objects == second.objects


@pytest.mark.parametrize(
    ("day", "prefixes"),
    [
        (date(2026, 11, 28), ["daily/2026-11-28/"]),
        (date(2026, 11, 29), ["daily/2026-11-29/", "weekly/2026-W48/"]),
        (date(2026, 12, 1), ["daily/2026-12-01/", "monthly/2026-12/"]),
        (date(2026, 3, 1), ["daily/2026-03-01/", "weekly/2026-W09/", "monthly/2026-03/"]),
        (date(2027, 1, 3), ["daily/2027-01-03/", "weekly/2026-W53/"]),
    ],
)
def test_sundays_also_go_to_weekly_and_the_first_to_monthly(day: date, prefixes: list[str]) -> None:
    assert backup.prefixes_for(day) == prefixes
    blobs = InMemoryBlobStore()
    backup.run_backup(_repo(("u1", "a")), blobs, day)
    for prefix in prefixes:
        assert blobs.get(prefix + "manifest.json") == blobs.get(prefixes[0] + "manifest.json")


def test_user_ids_are_safe_in_keys() -> None:
    blobs = InMemoryBlobStore()
    backup.run_backup(_repo(("google/123 ../x", "a")), blobs, T0.date())
    assert _key(blobs, "google/123 ../x").startswith("daily/2026-11-28/google%2F123%20..%2Fx/")
    plan = backup.plan_restore(_repo(), blobs, "2026-11-28")
    assert plan.creates == ["google/123 ../x/a"]


def test_restore_states_what_it_overwrites_and_writes_audit_entries() -> None:
    blobs = InMemoryBlobStore()
    backup.run_backup(_repo(("u1", "a"), ("u2", "a")), blobs, T0.date())
    target = _repo(("u1", "a"), ("u3", "z"))
    plan = backup.plan_restore(target, blobs, "2026-11-28")
    assert plan.overwrites == ["u1/a"]
    assert plan.creates == ["u2/a"]
    done: list[tuple[int, int]] = []
    written = backup.restore(
        target, plan, FixedClock(T0), progress=lambda d, t: done.append((d, t))
    )
    assert written == 2
    assert done[-1] == (2, 2)
    assert target.get("u1", "a").version == 2  # moved on past the stored version 1
    assert target.get("u3", "z").name == "u3 z"  # not in the backup: kept
    restored = [e for e in target.audit.entries if e.action == "portfolio.restored"]
    assert [e.user_id for e in restored] == ["u1", "u2"]
    assert restored[0].changes["restoredFrom"] == {"before": None, "after": "daily/2026-11-28"}


def test_a_weekly_or_monthly_backup_is_restored_by_its_name() -> None:
    blobs = InMemoryBlobStore()
    backup.run_backup(_repo(("u1", "a")), blobs, date(2026, 11, 1))  # a Sunday and the 1st
    assert backup.plan_restore(_repo(), blobs, "2026-W44").creates == ["u1/a"]
    assert backup.plan_restore(_repo(), blobs, "2026-11").creates == ["u1/a"]


def test_a_missing_backup_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="no backup at daily/2026-11-27/"):
        backup.plan_restore(_repo(), InMemoryBlobStore(), "2026-11-27")


@pytest.mark.parametrize("label", ["yesterday", "2026-13-01", "2026-W60", "2026-1-1"])
def test_a_bad_backup_name_is_a_validation_error(label: str) -> None:
    with pytest.raises(ValidationError, match="not a backup name"):
        backup.plan_restore(_repo(), InMemoryBlobStore(), label)


def _corrupt(blobs: InMemoryBlobStore, key: str, data: bytes | None) -> None:
    if data is None:
        del blobs.objects[key]
    else:
        blobs.objects[key] = (data, "application/gzip")


@pytest.mark.parametrize(
    ("key", "data", "reason"),
    [
        ("u1", None, r"u1/[0-9a-f]{16}\.json\.gz: missing"),
        ("u2", b"garbage", "checksum does not match"),
        ("manifest", b"{not json", "not a backup manifest"),
    ],
)
def test_a_corrupt_or_partial_backup_is_refused_and_nothing_is_written(
    key: str, data: bytes | None, reason: str
) -> None:
    blobs = InMemoryBlobStore()
    backup.run_backup(_repo(("u1", "a"), ("u2", "a")), blobs, T0.date())
    _corrupt(
        blobs, "daily/2026-11-28/manifest.json" if key == "manifest" else _key(blobs, key), data
    )
    target = _repo()
    with pytest.raises(BackupCorrupt, match=reason):
        backup.plan_restore(target, blobs, "2026-11-28")
    assert list(target.all_portfolios()) == []


def test_a_tampered_object_with_a_matching_checksum_still_fails_on_its_owner() -> None:
    blobs = InMemoryBlobStore()
    backup.run_backup(_repo(("u1", "a")), blobs, T0.date())
    key = _key(blobs, "u1")
    body = json.loads(gzip.decompress(blobs.get(key)))
    body["portfolios"][0]["userId"] = "intruder"
    forged = gzip.compress(json.dumps(body).encode(), mtime=0)
    blobs.put(key, forged)
    manifest = json.loads(blobs.get("daily/2026-11-28/manifest.json"))
    import hashlib

    manifest["objects"][0]["sha256"] = hashlib.sha256(forged).hexdigest()
    manifest["objects"][0]["bytes"] = len(forged)
    blobs.put("daily/2026-11-28/manifest.json", json.dumps(manifest).encode())
    with pytest.raises(BackupCorrupt, match="contents do not match"):
        backup.plan_restore(_repo(), blobs, "2026-11-28")


def test_activities_are_backed_up_and_restored_with_their_portfolio() -> None:
    from decimal import Decimal

    from portfoliowise.domain.activities import Activity, ActivityChange, ActivityType
    from portfoliowise.domain.money import USD

    repo = _repo(("u1", "a"))
    portfolio = repo.get("u1", "a")
    activities = tuple(
        Activity(
            activity_id=f"a{n}",
            type=ActivityType.BUY,
            day=date(2024, 1, 1 + n),
            currency=USD,
            symbol="VTI",
            quantity=Decimal("1.25"),
            unit_price=Decimal("250.5"),
        )
        for n in range(3)
    )
    repo.commit(portfolio, [], ActivityChange(added=activities))
    blobs = InMemoryBlobStore()
    backup.run_backup(repo, blobs, T0.date())

    # lose one, add a stray: the restore brings back exactly the backup's
    current = repo.get("u1", "a")
    stray = Activity("x", ActivityType.DEPOSIT, date(2025, 1, 1), USD, amount=Decimal("5"))
    repo.commit(current, [], ActivityChange(added=(stray,), removed=("a1",)))
    plan = backup.plan_restore(repo, blobs, T0.date().isoformat())
    assert plan.activities[("u1", "a")] == list(activities)
    backup.restore(repo, plan, FixedClock(T0))
    assert repo.activities("u1", "a") == list(activities)
    # a rerun finds nothing more to do
    backup.restore(repo, backup.plan_restore(repo, blobs, T0.date().isoformat()), FixedClock(T0))
    assert repo.activities("u1", "a") == list(activities)
