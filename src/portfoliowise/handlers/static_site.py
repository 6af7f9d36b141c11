"""`portfoliowise serve --web DIR`: a built single-page app and the API on one origin.

Requests are routed as the app's production host routes them, plus the API's own paths:

- `/api-proxy/<path>` goes to the API as `/<path>` (method, query string, headers with
  the cookies, and body unchanged): the app's production builds reach the API only there.
- A path that is one of the API's routes goes to the API, as without `--web`.
- Anything else is a file of DIR (GET and HEAD only, else 405), and a path that names no
  file and does not look like one (no extension, not under `/assets/`) is `index.html`:
  the app's own router handles it (its `_redirects` says `/* /index.html 200`).

A path is refused (400) when it has a `.` or `..` segment, an empty segment, a NUL, a
backslash or an encoded slash, before the file system is asked anything; the file found
is resolved (symbolic links followed) and must lie inside DIR, or the answer is 404, as
for hidden names (`.git`, `.env`; `.well-known` excepted).
Hashed files under `/assets/` may be cached for a year; everything else is revalidated
(`no-cache`, with an ETag)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote

API_PROXY = "/api-proxy"
INDEX = "index.html"
ASSETS = "assets"
STATIC_METHODS = ("GET", "HEAD")
IMMUTABLE = "public, max-age=31536000, immutable"  # content-hashed names under /assets/
REVALIDATE = "no-cache"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
    ".pdf": "application/pdf",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# Sent with every file; the API's answers keep their own headers.
SITE_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)
_ENCODED_SEPARATOR = re.compile(r"%(?:2f|5c|00)", re.IGNORECASE)


class SiteError(ValueError):
    """DIR cannot be served (missing, not a directory, no index.html): one line."""


class _BadPath(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Answer:
    """A response of the site (the local server adds the framing headers)."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def _error(status: int, code: str, message: str, *extra: tuple[str, str]) -> Answer:
    from portfoliowise.handlers.api.errors import error_body

    body = error_body(code, message).encode()
    return Answer(status, [("Content-Type", "application/json"), *extra], body)


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix.lower(), DEFAULT_CONTENT_TYPE)


def _segments(path: str) -> list[str]:
    """The decoded segments of an URL path; raises `_BadPath` for anything that could
    step outside the site or mean something else to the file system."""
    if "\\" in path or "\x00" in path or _ENCODED_SEPARATOR.search(path):
        raise _BadPath
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise _BadPath from None
    if not decoded.startswith("/") or "\x00" in decoded or "\\" in decoded:
        raise _BadPath
    parts = decoded[1:].split("/")
    if parts[-1] == "":  # a trailing slash: `/legal/` is `/legal`
        parts.pop()
    if any(part in ("", ".", "..") for part in parts):
        raise _BadPath
    return parts


def _etag(size: int, mtime_ns: int) -> str:
    return f'"{size:x}-{mtime_ns:x}"'


def _not_modified(headers: Mapping[str, str], etag: str) -> bool:
    wanted = next((v for k, v in headers.items() if k.lower() == "if-none-match"), None)
    if wanted is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    return "*" in tags or etag in tags


class StaticSite:
    """The files of a built app. `open` checks the directory once; files are read per
    request, so a rebuild is served without a restart."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def open(cls, directory: Path) -> StaticSite:
        try:
            root = directory.expanduser().resolve(strict=True)
        except (OSError, RuntimeError):
            raise SiteError(f"--web {directory}: no such directory") from None
        if not root.is_dir():
            raise SiteError(f"--web {directory}: not a directory")
        if not (root / INDEX).is_file():
            raise SiteError(f"--web {directory}: no {INDEX} in it (is it the app's build output?)")
        return cls(root)

    def _file(self, parts: list[str]) -> Path | None:
        """The regular file inside the site that `parts` name, or None."""
        try:
            found = self.root.joinpath(*parts).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            return None
        if not found.is_relative_to(self.root) or not found.is_file():
            return None
        return found

    def answer(self, method: str, path: str, headers: Mapping[str, str]) -> Answer:
        """The answer to a request for `path` (no query string)."""
        if method not in STATIC_METHODS:
            return _error(
                405,
                "method_not_allowed",
                f"{method} is not allowed on the web app's files",
                ("Allow", ", ".join(STATIC_METHODS)),
            )
        try:
            parts = _segments(path)
        except _BadPath:
            return _error(400, "bad_request", "the path is not valid")
        if any(part.startswith(".") and part != ".well-known" for part in parts):
            return _error(404, "not_found", "no such file")  # .git, .env: never built
        found = self._file(parts)
        if found is None:
            looks_like_a_file = bool(parts) and (parts[0] == ASSETS or "." in parts[-1])
            if looks_like_a_file or self._escapes(parts):
                return _error(404, "not_found", "no such file")
            found = self.root / INDEX  # the app's router handles the path
            parts = [INDEX]
        stat = found.stat()
        etag = _etag(stat.st_size, stat.st_mtime_ns)
        fields = [
            ("Cache-Control", IMMUTABLE if parts[0] == ASSETS and len(parts) > 1 else REVALIDATE),
            ("ETag", etag),
            ("Last-Modified", formatdate(stat.st_mtime, usegmt=True)),
            *SITE_HEADERS,
        ]
        if _not_modified(headers, etag):
            return Answer(304, fields)
        body = found.read_bytes()
        return Answer(200, [("Content-Type", content_type(found.name)), *fields], body)

    def _escapes(self, parts: list[str]) -> bool:
        """Whether `parts` name something (a link, say) that resolves outside the site."""
        try:
            target = self.root.joinpath(*parts).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            return False
        return not target.is_relative_to(self.root)


@dataclass(frozen=True, slots=True)
class WebApp:
    """The site and the API on one origin. `is_api_path` tells the API's own paths."""

    site: StaticSite
    is_api_path: Callable[[str], bool]

    def api_target(self, target: str) -> str | None:
        """The request target the API gets for `target`, or None when the site answers:
        `/api-proxy/<path>?<query>` is `/<path>?<query>`; an API path stays as it is."""
        path, query = target.partition("#")[0], ""
        if "?" in path:
            path, query = path.split("?", 1)
            query = "?" + query
        if path == API_PROXY or path.startswith(API_PROXY + "/"):
            return (path[len(API_PROXY) :] or "/") + query
        return target if self.is_api_path(path) else None

    def answer(self, method: str, target: str, headers: Mapping[str, str]) -> Answer:
        path = target.partition("#")[0].partition("?")[0]
        return self.site.answer(method, path, headers)
