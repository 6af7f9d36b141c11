"""The `BlobStore` contract, run against every adapter: in-memory, local files and S3 (moto,
in-process). Keys follow the backups bucket layout of the design."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from portfoliowise.adapters.blobs import LocalBlobStore, S3BlobStore, s3_client
from portfoliowise.adapters.memory import InMemoryBlobStore
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable, ValidationError
from portfoliowise.domain.ports import BlobStore

BUCKET = "portfoliowise-backups-test"
REGION = "ap-northeast-1"


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@dataclass
class Backend:
    name: str
    store: BlobStore
    content_type: Callable[[str], str] | None
    """The stored content type of a key, where the backend lets one observe it."""


def _memory(_: Path) -> Iterator[Backend]:
    store = InMemoryBlobStore()
    yield Backend("memory", store, lambda key: store.objects[key][1])


def _local(tmp_path: Path) -> Iterator[Backend]:
    yield Backend("local", LocalBlobStore(tmp_path / "blobs"), None)


def _s3(_: Path) -> Iterator[Backend]:
    with mock_aws():
        client = s3_client(region=REGION)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"}
        )
        yield Backend(
            "s3",
            S3BlobStore(client, BUCKET),
            lambda key: client.head_object(Bucket=BUCKET, Key=key)["ContentType"],
        )


BACKENDS = {"memory": _memory, "local": _local, "s3": _s3}


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from BACKENDS[request.param](tmp_path)


KEY = "daily/2026-11-28/u1/portfolios.json.gz"
DATA = bytes(range(256)) * 3 + b"\x00\r\n\x1f\x8b"  # every byte value, CR LF, a gzip magic


def test_put_then_get_returns_the_exact_bytes(backend: Backend) -> None:
    backend.store.put(KEY, DATA, "application/gzip")

    assert backend.store.get(KEY) == DATA


def test_empty_object(backend: Backend) -> None:
    backend.store.put("daily/2026-11-28/manifest.json", b"")

    assert backend.store.get("daily/2026-11-28/manifest.json") == b""


def test_put_overwrites(backend: Backend) -> None:
    backend.store.put(KEY, b"first version, longer than the second")
    backend.store.put(KEY, b"second")

    assert backend.store.get(KEY) == b"second"
    assert backend.store.list("daily/") == [KEY]


def test_missing_key_is_not_found(backend: Backend) -> None:
    backend.store.put(KEY, DATA)

    with pytest.raises(NotFoundError):
        backend.store.get("daily/2026-11-28/u1/other.json.gz")
    with pytest.raises(NotFoundError):
        backend.store.get("daily/2026-11-28/u1")  # a "directory" is not an object
    with pytest.raises(NotFoundError):
        backend.store.get("monthly/2026-11/u1/portfolios.json.gz")


def test_list_by_prefix_is_sorted_and_excludes_siblings(backend: Backend) -> None:
    keys = [
        "daily/2026-11-28/u2/portfolios.json.gz",
        "daily/2026-11-28/manifest.json",
        "daily/2026-11-28/u1/portfolios.json.gz",
        "daily/2026-11-2/u1/portfolios.json.gz",
        "daily/2026-11-29/u1/portfolios.json.gz",
        "weekly/2026-W48/u1/portfolios.json.gz",
    ]
    for key in keys:
        backend.store.put(key, key.encode())

    assert backend.store.list("daily/2026-11-28/") == [
        "daily/2026-11-28/manifest.json",
        "daily/2026-11-28/u1/portfolios.json.gz",
        "daily/2026-11-28/u2/portfolios.json.gz",
    ]
    assert backend.store.list("daily/2026-11-2/") == ["daily/2026-11-2/u1/portfolios.json.gz"]
    # A prefix is a string prefix, not a directory: it matches partial segments.
    assert backend.store.list("daily/2026-11-2") == sorted(k for k in keys if "daily/" in k)
    assert backend.store.list("") == sorted(keys)
    assert backend.store.list("yearly/") == []
    assert backend.store.list("daily/2026-11-28/u3/") == []


def test_list_pages_through_many_keys(backend: Backend) -> None:
    keys = [f"daily/2026-11-28/u{n:04d}/portfolios.json.gz" for n in range(1_005)]
    for key in reversed(keys):
        backend.store.put(key, b"{}")

    assert backend.store.list("daily/2026-11-28/") == keys


def test_content_type_is_kept_where_observable(backend: Backend) -> None:
    if backend.content_type is None:
        pytest.skip(f"{backend.name} does not store content types")
    backend.store.put(KEY, DATA, "application/gzip")
    backend.store.put("daily/2026-11-28/raw.bin", b"raw")

    assert backend.content_type(KEY) == "application/gzip"
    assert backend.content_type("daily/2026-11-28/raw.bin") == "application/octet-stream"


def test_unicode_keys(backend: Backend) -> None:
    key = "exports/u1/ポートフォリオ 1.csv"
    backend.store.put(key, "基準価額".encode())

    assert backend.store.get(key) == "基準価額".encode()
    assert backend.store.list("exports/u1/") == [key]


# --- what only one adapter can show -------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "../outside.json",
        "daily/../../outside.json",
        "daily/2026-11-28/../../../etc/passwd",
        "/etc/passwd",
        "C:/Windows/win.ini",
        "daily\\..\\..\\outside.json",
        "daily//u1.json",
        "daily/./u1.json",
        "daily/",
        "",
    ],
)
def test_local_refuses_keys_that_escape_the_root(tmp_path: Path, key: str) -> None:
    store = LocalBlobStore(tmp_path / "blobs")

    with pytest.raises(ValidationError):
        store.put(key, b"x")
    with pytest.raises(ValidationError):
        store.get(key)
    assert not (tmp_path / "outside.json").exists()


def test_local_refuses_listing_outside_the_root(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")

    with pytest.raises(ValidationError):
        store.list("../")
    with pytest.raises(ValidationError):
        store.list("/etc/")


def test_local_refuses_a_symlink_out_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    try:
        (root / "daily").symlink_to(outside, target_is_directory=True)
    except OSError:
        pytest.skip("symbolic links are not available here")

    with pytest.raises(ValidationError):
        LocalBlobStore(root).put("daily/x.json", b"x")
    assert list(outside.iterdir()) == []


def test_local_maps_keys_to_files_in_the_same_layout(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put(KEY, DATA)

    assert (tmp_path / "daily" / "2026-11-28" / "u1" / "portfolios.json.gz").read_bytes() == DATA
    assert store.list("daily/") == [KEY]  # '/'-separated whatever the OS separator


def test_local_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalBlobStore(tmp_path)
    store.put(KEY, b"old")

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("portfoliowise.adapters.blobs.local.os.replace", crash)
    with pytest.raises(SourceUnavailable):
        store.put(KEY, b"new")

    assert store.get(KEY) == b"old"
    assert [p.name for p in (tmp_path / "daily" / "2026-11-28" / "u1").iterdir()] == [
        "portfolios.json.gz"
    ]  # no temporary file left behind


def test_local_key_through_an_existing_object_is_refused(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("daily/2026-11-28", b"a file where a directory would be")

    with pytest.raises(ValidationError):
        store.put("daily/2026-11-28/u1.json", b"x")
    with pytest.raises(NotFoundError):
        store.get("daily/2026-11-28/u1.json")


def test_local_missing_root_is_empty(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "never-written")

    assert store.list("") == []
    with pytest.raises(NotFoundError):
        store.get(KEY)


def _stubbed_s3() -> tuple[S3BlobStore, Stubber]:
    client = s3_client(region=REGION)
    return S3BlobStore(client, BUCKET), Stubber(client)


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("NoSuchKey", 404, NotFoundError),
        ("SlowDown", 503, SourceUnavailable),
        ("InternalError", 500, SourceUnavailable),
    ],
)
def test_s3_errors_are_translated(code: str, status: int, error: type[Exception]) -> None:
    store, stubber = _stubbed_s3()
    stubber.add_client_error("get_object", code, http_status_code=status)
    stubber.add_client_error("put_object", code, http_status_code=status)
    stubber.add_client_error("list_objects_v2", code, http_status_code=status)

    with stubber, pytest.raises(error):
        store.get(KEY)
    if error is SourceUnavailable:
        with stubber, pytest.raises(error):
            store.put(KEY, b"x")
        with stubber, pytest.raises(error):
            store.list("daily/")


def test_s3_configuration_errors_are_not_disguised() -> None:
    store, stubber = _stubbed_s3()
    stubber.add_client_error("get_object", "AccessDenied", http_status_code=403)

    with stubber, pytest.raises(ClientError):
        store.get(KEY)


def test_s3_unreachable_is_unavailable() -> None:
    client = s3_client(
        "http://127.0.0.1:9", region=REGION, max_attempts=1, connect_timeout=0.5, read_timeout=0.5
    )

    with pytest.raises(SourceUnavailable):
        S3BlobStore(client, BUCKET).get(KEY)


def test_s3_client_uses_standard_retries() -> None:
    client = s3_client(region=REGION)

    retries = client.meta.config.retries  # type: ignore[attr-defined]
    assert retries == {"mode": "standard", "total_max_attempts": 3}


def test_s3_put_sends_the_content_type_and_no_sse_parameters() -> None:
    store, stubber = _stubbed_s3()
    stubber.add_response(
        "put_object",
        {},
        {"Bucket": BUCKET, "Key": KEY, "Body": DATA, "ContentType": "application/gzip"},
    )

    with stubber:
        store.put(KEY, DATA, "application/gzip")
    stubber.assert_no_pending_responses()
