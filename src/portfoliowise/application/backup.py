"""Backups of every user's portfolios to a blob store, and restores from them.

Layout (the same in S3 and in the local data directory):
  daily/{YYYY-MM-DD}/{userId}/{sha256[:16]}.json.gz   one gzip JSON document per user
  daily/{YYYY-MM-DD}/manifest.json                    counts and sha256 of every object
  weekly/{YYYY-Www}/...                               the same objects, on Sundays
  monthly/{YYYY-MM}/...                               the same objects, on the 1st
Objects are built deterministically (sorted keys, gzip without a name or time), so the
same data backed up twice gives the same keys and bytes. An object is named by its
content and the manifest, written last, names the objects: a rerun of the day over
changed data writes new objects beside the old ones, so until its new manifest replaces
the old one, the day's previous backup stays whole (a rerun killed midway destroys
nothing)."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, unquote

from portfoliowise.domain.activities import Activity, ActivityChange, activity_from_json
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.errors import BackupCorrupt, NotFoundError, OutOfRange, ValidationError
from portfoliowise.domain.events import FieldChange, PortfolioRestored
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.ports import BlobStore, Clock, PortfolioRepository

BACKUP_FORMAT = "portfoliowise/backup@1"
MANIFEST = "manifest.json"
USER_OBJECT_SUFFIX = ".json.gz"

RESTORE_CONTEXT = RequestContext(user_agent="portfoliowise restore")

Progress = Callable[[int, int], None]
"""Called with (done, total) as objects are written or restored."""


def _no_progress(done: int, total: int) -> None:
    return None


def daily_prefix(day: date) -> str:
    return f"daily/{day.isoformat()}/"


def weekly_prefix(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"weekly/{year}-W{week:02d}/"


def monthly_prefix(day: date) -> str:
    return f"monthly/{day:%Y-%m}/"


def prefixes_for(day: date) -> list[str]:
    """Where a backup of `day` is written: daily always, weekly on Sundays, monthly on
    the 1st."""
    found = [daily_prefix(day)]
    if day.isoweekday() == 7:
        found.append(weekly_prefix(day))
    if day.day == 1:
        found.append(monthly_prefix(day))
    return found


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def prefix_of(label: str) -> str:
    """The prefix of a backup named `2026-11-28` (daily), `2026-W48` (weekly) or
    `2026-11` (monthly)."""
    label = label.strip()
    try:
        if _DAY.match(label):
            return daily_prefix(date.fromisoformat(label))
        if match := _WEEK.match(label):
            date.fromisocalendar(int(match[1]), int(match[2]), 7)
            return f"weekly/{label}/"
        if _MONTH.match(label):
            date.fromisoformat(f"{label}-01")
            return f"monthly/{label}/"
    except ValueError:
        pass
    raise ValidationError(f"not a backup name: {label!r} (use YYYY-MM-DD, YYYY-Www or YYYY-MM)")


def _user_key(user_id: str, body: bytes) -> str:
    """The user's object, named by its content (see the module docstring)."""
    return f"{quote(user_id, safe='')}/{_sha256(body)[:16]}{USER_OBJECT_SUFFIX}"


def _canonical(document: object) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class BackupReport:
    prefixes: list[str]
    users: int
    portfolios: int
    objects: int
    bytes: int


def run_backup(
    repository: PortfolioRepository,
    blobs: BlobStore,
    day: date,
    progress: Progress = _no_progress,
) -> BackupReport:
    by_user: dict[str, list[dict[str, Any]]] = {}
    for portfolio in repository.all_portfolios():
        document: dict[str, Any] = dict(portfolio.to_json())
        activities = repository.activities(portfolio.user_id, portfolio.portfolio_id)
        if activities:  # kept beside the portfolio, never inside it: backed up with it
            document["activities"] = [a.to_json() for a in activities]
        by_user.setdefault(portfolio.user_id, []).append(document)
    objects: dict[str, bytes] = {}
    entries: list[dict[str, Any]] = []
    for user_id in sorted(by_user):
        documents = sorted(by_user[user_id], key=lambda d: str(d["portfolioId"]))
        body = _gzip(
            _canonical({"format": BACKUP_FORMAT, "userId": user_id, "portfolios": documents})
        )
        key = _user_key(user_id, body)
        objects[key] = body
        entries.append(
            {
                "key": key,
                "userId": user_id,
                "portfolios": len(documents),
                "bytes": len(body),
                "sha256": _sha256(body),
            }
        )
    manifest = _canonical(
        {
            "format": BACKUP_FORMAT,
            "date": day.isoformat(),
            "users": len(entries),
            "portfolios": sum(e["portfolios"] for e in entries),
            "objects": entries,
        }
    )
    prefixes = prefixes_for(day)
    total = (len(objects) + 1) * len(prefixes)
    done = 0
    for prefix in prefixes:
        for key, body in objects.items():
            blobs.put(prefix + key, body, "application/gzip")
            done += 1
            progress(done, total)
        # The manifest goes last: a backup without one is visibly incomplete.
        blobs.put(prefix + MANIFEST, manifest, "application/json")
        done += 1
        progress(done, total)
    return BackupReport(
        prefixes=prefixes,
        users=len(entries),
        portfolios=sum(e["portfolios"] for e in entries),
        objects=total,
        bytes=(sum(len(b) for b in objects.values()) + len(manifest)) * len(prefixes),
    )


@dataclass(frozen=True, slots=True)
class VerifiedBackup:
    prefix: str
    portfolios: list[Portfolio]
    activities: dict[tuple[str, str], list[Activity]] = field(default_factory=dict)


def verify_backup(blobs: BlobStore, prefix: str) -> VerifiedBackup:
    """Read and check a backup: its manifest, every object it lists (present, same size and
    sha256, same portfolio count and owner), and every portfolio in it against the rules
    of the domain (`Portfolio.from_json`, so the limits of `domain.limits` too). Raises
    `NotFoundError` when there is no backup there, `BackupCorrupt` naming every problem
    found, and `OutOfRange` when the backup is whole but holds a value outside the
    limits: all before anything is restored."""
    try:
        raw = blobs.get(prefix + MANIFEST)
    except NotFoundError:
        raise NotFoundError(f"no backup at {prefix} (no {MANIFEST})") from None
    try:
        manifest = json.loads(raw)
        if manifest.get("format") != BACKUP_FORMAT:
            raise ValueError(f"unknown format {manifest.get('format')!r}")
        listed = manifest["objects"]
        if not isinstance(listed, list):
            raise ValueError("objects is not a list")
    except (ValueError, KeyError, AttributeError) as exc:
        raise BackupCorrupt(f"{prefix}{MANIFEST} is not a backup manifest: {exc}") from None

    problems: list[str] = []
    refused: list[OutOfRange] = []
    portfolios: list[Portfolio] = []
    activities: dict[tuple[str, str], list[Activity]] = {}
    for entry in listed:
        key = str(entry.get("key", ""))
        try:
            body = blobs.get(prefix + key)
        except NotFoundError:
            problems.append(f"{key}: missing")
            continue
        if len(body) != entry.get("bytes") or _sha256(body) != entry.get("sha256"):
            problems.append(f"{key}: checksum does not match the manifest")
            continue
        try:
            document = json.loads(gzip.decompress(body))
            documents = document["portfolios"]
            owners = [str(d["userId"]) for d in documents]
            found = _portfolios(documents, key, refused)
            activities.update(_activities(documents, key, refused))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{key}: unreadable ({exc})")
            continue
        owner = unquote(key.split("/", 1)[0])
        if len(owners) != entry.get("portfolios") or any(o != owner for o in owners):
            problems.append(f"{key}: contents do not match the manifest")
            continue
        if any(p.user_id != owner for p in found):
            problems.append(f"{key}: contents do not match the manifest")
            continue
        portfolios.extend(found)
    if sum(int(e.get("portfolios", 0)) for e in listed) != manifest.get("portfolios"):
        problems.append("manifest counts do not add up")
    if problems:
        problems += [str(exc) for exc in refused[:_REFUSED_SHOWN]]
        raise BackupCorrupt(f"backup {prefix} is corrupt or partial: " + "; ".join(problems))
    if refused:
        first = refused[0]
        more = f"; and {len(refused) - 1} more" if len(refused) > 1 else ""
        raise OutOfRange(
            first.field,
            first.limit,
            message=f"backup {prefix} holds a value outside the limits: {first}{more}",
        )
    return VerifiedBackup(prefix, portfolios, activities)


_REFUSED_SHOWN = 5


def _portfolios(documents: list[Any], key: str, refused: list[OutOfRange]) -> list[Portfolio]:
    """The portfolios of one object, but those holding a value outside the limits: these
    are added to `refused` (located in the object), so that every one is named. Other
    errors propagate."""
    found: list[Portfolio] = []
    for index, document in enumerate(documents):
        try:
            found.append(Portfolio.from_json(document))
        except OutOfRange as exc:
            refused.append(exc.located(f"{key}: portfolios[{index}]"))
    return found


def _activities(
    documents: list[Any], key: str, refused: list[OutOfRange]
) -> dict[tuple[str, str], list[Activity]]:
    """The activities of each portfolio of one object, checked by the domain like the
    portfolios (those outside the limits are added to `refused`)."""
    found: dict[tuple[str, str], list[Activity]] = {}
    for index, document in enumerate(documents):
        items = document.get("activities") or []
        if not isinstance(items, list):
            raise ValueError(f"portfolios[{index}].activities is not a list")
        kept: list[Activity] = []
        for position, item in enumerate(items):
            try:
                kept.append(activity_from_json(item))
            except OutOfRange as exc:
                refused.append(exc.located(f"{key}: portfolios[{index}].activities[{position}]"))
        if kept:
            found[(str(document["userId"]), str(document["portfolioId"]))] = kept
    return found


@dataclass(slots=True)
class RestorePlan:
    prefix: str
    portfolios: list[Portfolio]
    overwrites: list[str] = field(default_factory=list)  # userId/portfolioId already stored
    creates: list[str] = field(default_factory=list)
    activities: dict[tuple[str, str], list[Activity]] = field(default_factory=dict)


def plan_restore(repository: PortfolioRepository, blobs: BlobStore, label: str) -> RestorePlan:
    """Verify the backup named `label` and state what restoring it would overwrite.
    Portfolios stored but absent from the backup are left as they are."""
    backup = verify_backup(blobs, prefix_of(label))
    plan = RestorePlan(backup.prefix, backup.portfolios, activities=backup.activities)
    for portfolio in backup.portfolios:
        name = f"{portfolio.user_id}/{portfolio.portfolio_id}"
        try:
            repository.get(portfolio.user_id, portfolio.portfolio_id)
        except NotFoundError:
            plan.creates.append(name)
        else:
            plan.overwrites.append(name)
    return plan


def restore(
    repository: PortfolioRepository,
    plan: RestorePlan,
    clock: Clock,
    context: RequestContext = RESTORE_CONTEXT,
    progress: Progress = _no_progress,
) -> int:
    """Write every portfolio of a verified plan, each with a `portfolio.restored` audit
    entry carrying the snapshot. Returns how many were written."""
    total = len(plan.portfolios)
    for done, portfolio in enumerate(plan.portfolios, start=1):
        snapshot = portfolio.to_json()
        changes = {key: FieldChange(None, value) for key, value in snapshot.items()}
        changes["restoredFrom"] = FieldChange(None, plan.prefix.rstrip("/"))
        event = PortfolioRestored(
            user_id=portfolio.user_id,
            portfolio_id=portfolio.portfolio_id,
            occurred_at=clock.now(),
            changes=changes,
        )
        repository.restore(portfolio, audit_entries([event], context))
        _restore_activities(repository, portfolio, plan.activities)
        progress(done, total)
    return total


def _restore_activities(
    repository: PortfolioRepository,
    portfolio: Portfolio,
    backed_up: dict[tuple[str, str], list[Activity]],
) -> None:
    """Make the portfolio's activities the backup's (a second commit after the snapshot's:
    a restore stopped in between is completed by running it again)."""
    wanted = backed_up.get((portfolio.user_id, portfolio.portfolio_id), [])
    stored = repository.activities(portfolio.user_id, portfolio.portfolio_id)
    if [a.to_json() for a in stored] == [
        a.to_json() for a in sorted(wanted, key=Activity.sort_key)
    ]:
        return
    kept = {a.activity_id for a in wanted}
    change = ActivityChange(
        added=tuple(wanted),
        removed=tuple(a.activity_id for a in stored if a.activity_id not in kept),
    )
    repository.commit(portfolio, [], change)
