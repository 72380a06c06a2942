"""What a page links to and loads, read from its HTML without running it.

The in-process driver has no browser: it follows ``<a href>`` (and ``<area href>``) to crawl,
and fetches the same-origin resources a browser would load with the page (``<img src>``,
``<script src>``, ``<link rel=stylesheet href>``, ``<iframe src>``), because a tracking pixel
or a script served by the app sets cookies through ``Set-Cookie`` too. ``<base href>`` is
honoured; fragments are dropped.

Example::

    found = read_page('<a href="/about#team">About</a><img src="/px.gif">', "http://shop/")
    found.links        # ("http://shop/about",)
    found.resources    # ("http://shop/px.gif",)
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin

__all__ = ["PageLinks", "read_page"]


@dataclass(frozen=True, slots=True)
class PageLinks:
    """A page's links (to crawl) and resources (loaded with it), absolute, in order."""

    links: tuple[str, ...]
    resources: tuple[tuple[str, str], ...]  # (url, destination: image, script, style, iframe)


class _Reader(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links: list[str] = []
        self.resources: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "base" and values.get("href"):
            self.base = urljoin(self.base, values["href"].strip())
        elif tag in ("a", "area") and values.get("href"):
            self.links.append(self._absolute(values["href"]))
        elif tag == "img" and values.get("src"):
            self.resources.append((self._absolute(values["src"]), "image"))
        elif tag == "script" and values.get("src"):
            self.resources.append((self._absolute(values["src"]), "script"))
        elif tag == "iframe" and values.get("src"):
            self.resources.append((self._absolute(values["src"]), "iframe"))
        elif (
            tag == "link"
            and "stylesheet" in values.get("rel", "").lower().split()
            and values.get("href")
        ):
            self.resources.append((self._absolute(values["href"]), "style"))

    def _absolute(self, url: str) -> str:
        return urldefrag(urljoin(self.base, url.strip()))[0]


def read_page(html: str, url: str) -> PageLinks:
    """The links and resources of the page ``html`` served at ``url``."""
    reader = _Reader(url)
    try:
        reader.feed(html)
        reader.close()
    except Exception:
        pass
    return PageLinks(tuple(dict.fromkeys(reader.links)), tuple(dict.fromkeys(reader.resources)))
