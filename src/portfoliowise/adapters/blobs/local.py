"""Blobs as files under a root directory (local mode): the key `daily/2026-11-28/u1/x.json`
is the file `root/daily/2026-11-28/u1/x.json`, so a data directory mirrors the bucket.

Keys are checked before they touch the file system: a key that could name a file outside the
root (`..`, an absolute path, a drive, a backslash) is a `ValidationError`. Writes are
atomic: the data goes to a temporary file in the same directory, is flushed to disk, then
renamed over the key with `os.replace`, so a reader sees the old object or the new one, never
half of one. Content types are accepted for parity with S3 but not stored."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath

from portfoliowise.domain.errors import NotFoundError, SourceUnavailable, ValidationError

TEMP_PREFIX = ".~tmp-"
"""Name prefix of in-flight writes; never a key's last segment, never listed."""


def key_parts(key: str, *, prefix: bool = False) -> list[str]:
    """The '/'-separated segments of a key (or of a listing prefix, which may be empty or end
    with '/'), refusing anything that could escape the root directory."""
    if not prefix and not key:
        raise ValidationError("a blob key cannot be empty")
    if "\\" in key or "\x00" in key or key.startswith("/") or ":" in key.split("/", 1)[0]:
        raise ValidationError(f"blob key {key!r} is not a relative '/'-separated key")
    parts = key.split("/")
    if prefix:
        parts = parts[:-1]  # the last segment is a partial name (or empty after a '/')
    for part in parts:
        if part in ("", ".", ".."):
            raise ValidationError(f"blob key {key!r} has an empty, '.' or '..' segment")
    if not prefix and parts[-1].startswith(TEMP_PREFIX):
        raise ValidationError(f"blob key {key!r} uses the reserved prefix {TEMP_PREFIX!r}")
    return parts


class LocalBlobStore:
    """Implements `BlobStore` over the directory `root` (created on the first write)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, key: str) -> Path:
        """The file a key maps to (checked to be inside the root, symbolic links resolved)."""
        path = self.root.joinpath(*key_parts(key))
        root = self.root.resolve()
        if not path.resolve().is_relative_to(root):
            raise ValidationError(f"blob key {key!r} resolves outside the store")
        return path

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self.path_of(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
        except (FileExistsError, NotADirectoryError) as exc:
            raise ValidationError(f"blob key {key!r} runs through an existing object") from exc
        except OSError as exc:
            raise SourceUnavailable(f"cannot write blob {key}: {exc}") from exc
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, path)
        except IsADirectoryError as exc:
            raise ValidationError(f"blob key {key!r} is a prefix of other objects") from exc
        except OSError as exc:
            raise SourceUnavailable(f"cannot write blob {key}: {exc}") from exc
        finally:
            if os.path.exists(temp_name):
                os.unlink(temp_name)

    def get(self, key: str) -> bytes:
        path = self.path_of(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFoundError(f"no object at {key}") from None
        except PermissionError as exc:
            if path.is_dir():  # Windows reports reading a directory as a permission error
                raise NotFoundError(f"no object at {key}") from None
            raise SourceUnavailable(f"cannot read blob {key}: {exc}") from exc
        except OSError as exc:
            raise SourceUnavailable(f"cannot read blob {key}: {exc}") from exc

    def list(self, prefix: str) -> list[str]:
        """Keys starting with `prefix` (a plain string prefix, as on S3: `daily/2026-11-2`
        matches `daily/2026-11-28/…`), sorted, '/'-separated on every OS."""
        directory = self.root.joinpath(*key_parts(prefix, prefix=True))
        if not directory.is_dir():
            return []
        keys: list[str] = []
        for dirpath, _dirnames, filenames in os.walk(directory):
            relative = PurePosixPath(*Path(dirpath).relative_to(self.root).parts)
            for name in filenames:
                if name.startswith(TEMP_PREFIX):
                    continue
                key = str(relative / name)
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)
