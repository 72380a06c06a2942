"""Which page to visit next: the given paths, then same-origin links breadth-first.

Each state crawls on its own (what a page links to may depend on consent), up to a number of
pages. Links leave the frontier when they point to another origin, to the consent route
(consentware's own pages, not the site's), to a non-page file (images, archives, ...), or to a
page already queued.

Example::

    frontier = Frontier("http://shop/", ["/"], limit=20, skip_prefix="/_consent")
    url = frontier.next()             # "http://shop/"
    frontier.add(["http://shop/about", "https://elsewhere/"])
"""

from __future__ import annotations

import posixpath
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Final
from urllib.parse import urldefrag, urljoin, urlsplit

__all__ = ["Frontier", "is_third_party", "page_key", "same_origin", "shown_url"]

_NOT_PAGES: Final = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".svg",
        ".ico",
        ".css",
        ".js",
        ".mjs",
        ".map",
        ".pdf",
        ".zip",
        ".gz",
        ".tgz",
        ".mp4",
        ".mp3",
        ".woff",
        ".woff2",
        ".ttf",
        ".xml",
        ".json",
        ".txt",
        ".csv",
        ".dmg",
        ".exe",
    }
)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, f"{(parts.hostname or '').lower()}:{port}"


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host and port."""
    return _origin(a) == _origin(b)


def page_key(url: str) -> str:
    """How a page is named in reports: its path and query."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class Frontier:
    """A breadth-first queue of same-origin pages, at most ``limit`` handed out."""

    def __init__(
        self,
        base_url: str,
        paths: Sequence[str],
        *,
        limit: int,
        follow: bool = True,
        skip_prefix: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.limit = limit
        self.follow = follow
        self.skip_prefix = skip_prefix
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()
        self.handed_out = 0
        for path in paths:
            self._push(urljoin(base_url, path), explicit=True)

    def next(self) -> str | None:
        """The next page to visit, or ``None`` when done."""
        if self.handed_out >= self.limit or not self._queue:
            return None
        self.handed_out += 1
        return self._queue.popleft()

    def add(self, links: Iterable[str]) -> None:
        """Queue the same-origin pages among ``links`` (when following links)."""
        if not self.follow:
            return
        for link in links:
            self._push(link, explicit=False)

    def _push(self, url: str, *, explicit: bool) -> None:
        url = urldefrag(url)[0]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not same_origin(url, self.base_url):
            return
        path = parts.path or "/"
        if not explicit:
            if self.skip_prefix and (
                path == self.skip_prefix or path.startswith(self.skip_prefix + "/")
            ):
                return
            if posixpath.splitext(path)[1].lower() in _NOT_PAGES:
                return
        key = page_key(url)
        if key in self._queued:
            return
        self._queued.add(key)
        self._queue.append(url)


def _site(host: str) -> str:
    """The registrable part of ``host``, approximately: its last two labels.

    No public suffix list is at hand: ``a.example.co.uk`` and ``b.example.co.uk`` look like
    one site to this function (and ``co.uk`` like a site), which errs towards first party.
    """
    host = host.lower().lstrip(".")
    labels = host.split(".")
    if len(labels) <= 2 or host.replace(".", "").isdigit() or ":" in host:
        return host
    return ".".join(labels[-2:])


def is_third_party(cookie_domain: str, site_url: str) -> bool:
    """Whether a cookie of ``cookie_domain`` belongs to another site than ``site_url``'s."""
    return _site(cookie_domain) != _site(urlsplit(site_url).hostname or "")


def shown_url(url: str, base_url: str) -> str:
    """``url`` as reports show it: a path on the audited origin, else the whole URL."""
    return page_key(url) if same_origin(url, base_url) else url
