"""Chromium as the oracle: the guarded jar is the bare jar less what the visitor refused.

For each generated ``Set-Cookie`` line and a random consent state, the same line is served twice
by the same kind of server to headless Chromium: BARE by the app alone, GUARDED through
consentware. Then, per line and consent state:

- every cookie in the GUARDED jar is necessary or granted, classified by the name the server
  would see (a nameless cookie by the text of its value before ``=``), with the fuzz policy's
  ``category_of``;
- where BARE stored a necessary or granted cookie, GUARDED stored the identical cookie (name,
  value, domain, path, expiry within :data:`EXPIRY_TOLERANCE` seconds, secure, httpOnly,
  sameSite, partition);
- GUARDED holds nothing BARE did not (consentware's own deletions store nothing).

So GUARDED must equal BARE filtered by consent, whatever consentware believes about the line. In
the *held* variant the browser already holds a refused cookie (added with a Path and Domain) and
the app sends a deletion-looking line for it that names that Path and Domain: the guarded jar
must not hold it any more, live or rewritten (the canonical deletion removes it).

Configurations: the WSGI middleware under werkzeug's threaded server and under wsgiref; the
ASGI middleware under uvicorn with h11 and with httptools (skipped where it is not installed);
Django's middleware (first in ``MIDDLEWARE``) under Django's WSGI handler on wsgiref and its
ASGI handler on uvicorn, with raw lines (``response.headers["Set-Cookie"]`` for one, a raw
morsel in ``response.cookies`` for the others) and with ``response.set_cookie(...)`` calls.

Speed, and why grouping cannot change an answer. A browser context costs about a third of a
CPU second to start and a fetch about ten milliseconds, so a few contexts serve the whole module
and cases are judged in *groups*: cases of one consent state whose names are pairwise disjoint
under every reading (the browser's name, a nameless value's name, each comma piece, the text
before and after a control character, each header a CR/LF starts, the browser's lossy view of
non-UTF-8 octets, a held cookie's name). Cookies of different names cannot touch in a jar, and
consentware's deletions name one of those names, so a group's jar is the union of its cases'
jars. A group is one pass a side: empty the context, add the consent and held cookies, fetch
every response of the group at once, read the jar; :data:`WORKERS` groups are in flight at once.
Lines share a response only when no server refuses them and none can end the header block
(see :meth:`Config.own_response`); a shared response that fails anyway sends its group back
line by line. A line naming the consent cookie is judged in a group of its own (it could change
the consent the other requests carry), and a refused cookie a later request of the group sent
back counts as stored even if consentware's expiry of held cookies removed it before the jar
was read. Every failing case is then judged alone once more, and its message says whether it
fails the same way there.

Knobs (environment): ``FUZZ_BROWSER_LINES`` cases per test (240 in the ``ci`` profile, 2,000 in
``dev``, 20,000 under ``HYPOTHESIS_PROFILE=fuzz``, which ``make fuzz`` sets; the Django
``set_cookie`` and held variants run half as many); ``FUZZ_BROWSER_SEED`` (``0`` in ``ci``,
random otherwise, always printed); ``FUZZ_BROWSER_CASE=12,40`` replays those cases alone;
``FUZZ_BROWSER_REPORT=path`` appends every failure as a JSON line; ``FUZZ_BROWSER_WORKERS``
(default 3). A failure prints the line, configuration, consent state, both jars, the response
statuses and the command that replays it. See docs/fuzzing.md.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.cookies import Morsel
from typing import Any, ClassVar
from urllib.parse import parse_qs

import pytest
from hypothesis import given

from consentware.asgi import Receive, Scope, Send
from tests.fuzz.lines import (
    DEFAULT_SITE,
    GeneratedLine,
    cookie_name,
    expires_value,
    lines,
    max_age_value,
    policy_name,
    set_cookie_call,
    set_cookie_line,
)
from tests.fuzz.profiles import PROFILE, scaled
from tests.fuzz.strategies import (
    CONSENT_NAME,
    OPTIONAL,
    POLICY_BLOCK,
    SECRET,
    SIGNED,
    reference_name,
)
from tests.support.browser import launch_chromium
from tests.support.servers import RunningServer, serve_asgi, serve_wsgi, serve_wsgiref

#: ``*.localhost`` is loopback for Chromium and a secure context over plain HTTP, so ``Secure``,
#: ``__Host-``/``__Secure-``/``__Http-`` and ``Partitioned`` cookies are stored, and
#: ``Domain=example.localhost`` is a real parent domain of the page's host.
SITE = DEFAULT_SITE
HOST = "www." + SITE
#: Seconds two expiry times may differ and still be the same cookie (the two sides are served
#: moments apart, and Chromium corrects ``Expires`` by the response's one-second ``Date``).
EXPIRY_TOLERANCE = 10.0
#: A cookie that expires this soon after the jar is read is left out on both sides: it may
#: already be gone from the jar read second.
SHORT_LIVED = 30.0
#: At most this many cases in one group (under Chromium's 180 cookies per domain, with room
#: for lines that start a second header).
GROUP_SIZE = 40
#: At most this many lines in one shared response.
RESPONSE_LINES = 6
#: Request paths: the default Path of a cookie without a valid one is the directory of these.
REQUEST_PATHS = ("/", "/c/d/page", "/app/page", "/app/")

_DEFAULT_LINES = {"ci": 240, "dev": 2_000, "fuzz": 20_000}
LINES = int(os.environ.get("FUZZ_BROWSER_LINES") or _DEFAULT_LINES[PROFILE])
SEED = os.environ.get("FUZZ_BROWSER_SEED") or (
    "0" if PROFILE == "ci" else str(random.SystemRandom().randrange(2**32))
)
ONLY = tuple(int(i) for i in os.environ.get("FUZZ_BROWSER_CASE", "").split(",") if i.strip())
REPORT = os.environ.get("FUZZ_BROWSER_REPORT")
#: Groups in flight at once (a pair of browser contexts each).
WORKERS = int(os.environ.get("FUZZ_BROWSER_WORKERS") or 3)
#: Failures printed in full in a test's message (all are counted, and all go to the report).
SHOWN_FAILURES = 12

_PLAIN_HEADERS = frozenset({"Set-Cookie", "set-cookie", "SET-COOKIE"})
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NEWLINES = re.compile(r"\r\n|\r|\n")
_SPLITS = re.compile(r"[\r\n\x00]")


# -- cases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """A refused cookie the browser holds before the response (added with add_cookies)."""

    name: str
    value: str
    domain: str  # HOST (host-only) or "." + SITE
    path: str
    secure: bool

    def as_playwright(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "domain": self.domain,
            "path": self.path,
            "secure": self.secure,
            "httpOnly": False,
            "sameSite": "Lax",
            "expires": time.time() + 86_400,
        }


@dataclass(frozen=True)
class Case:
    """One generated line (or ``set_cookie`` call) with the visitor it is served to."""

    kind: str  # "raw", "set_cookie" or "held"
    index: int
    granted: frozenset[str] | None  # None: undecided, no consent cookie
    path: str
    line: GeneratedLine | None = None
    call: dict[str, Any] | None = None
    held: Held | None = None

    @property
    def allowed(self) -> frozenset[str]:
        return (self.granted or frozenset()) | {"necessary"}

    @functools.cached_property
    def wire(self) -> list[tuple[str, str, bool]]:
        """(header name, value, as str) of every header the case makes the app write."""
        if self.call is not None:
            return [("Set-Cookie", line, False) for line in render_call(self.call)]
        assert self.line is not None
        return [(self.line.header, self.line.value, self.line.as_str)]

    @functools.cached_property
    def names(self) -> frozenset[str]:
        """Every name the case may set or make consentware delete (see :func:`line_names`)."""
        names: set[str] = set()
        for _, value, _ in self.wire:
            names |= line_names(value)
        if self.held is not None:
            names.add(self.held.name)
        return frozenset(names)

    @property
    def shapes(self) -> tuple[str, ...]:
        if self.call is not None:
            return tuple(self.call["shapes"])
        assert self.line is not None
        return self.line.shapes

    def describe(self) -> str:
        consent = "undecided" if self.granted is None else f"granted {sorted(self.granted)}"
        parts = [f"case {self.index} ({self.kind}), {consent}, request path {self.path!r}"]
        if self.line is not None:
            extra = ", as a str pair" if self.line.as_str else ""
            parts.append(f"  header {self.line.header!r}{extra}: {self.line.value!r}")
        if self.call is not None:
            arguments = {k: v for k, v in self.call.items() if k != "shapes"}
            parts.append(f"  set_cookie(**{arguments!r})")
        if self.held is not None:
            parts.append(f"  held before: {self.held!r}")
        parts.append(f"  shapes: {', '.join(self.shapes)}")
        return "\n".join(parts)


def make_case(kind: str, index: int, seed: str = SEED) -> Case:
    """Case ``index`` of ``kind``: a function of the seed alone."""
    rng = random.Random(f"{seed}:{kind}:{index}")
    granted = None if rng.random() < 0.25 else frozenset(c for c in OPTIONAL if rng.random() < 0.5)
    path = rng.choice(REQUEST_PATHS)
    if kind == "raw":
        return Case(kind, index, granted, path, line=set_cookie_line(rng, site=SITE))
    if kind == "set_cookie":
        return Case(kind, index, granted, path, call=set_cookie_call(rng, site=SITE))
    held, line = _held_case(rng, granted)
    return Case(kind, index, granted, path, line=line, held=held)


_REAL_DELETIONS = (
    "Max-Age=0",
    "max-age=-1",
    "Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    "Expires=Thursday, 01-Jan-70 00:00:00 GMT",
    "Expires=Thu Jan  1 00:00:00 1970",
)
# Each was seen stored by Chromium, or is read differently by some parser.
_FAKE_DELETIONS = (
    "Max-Age=0; Max-Age=oops",
    "Max-Age=" + "0" * 1025,
    "Max-Age=+0",
    "Max-Age=0; Max-Age=3600",
    "Expires=Thu, 01 Jan 69 00:00:00 GMT",
    "Expires=Thu, 01 Jan 1970 00:00 GMT",
    "Expires=1970 Thu 01 Jan 25:61:61",
    "Expires=Thu, 01 Jan 1970 1:2 GMT",
    "Expires=Sat, 31 Feb 2001 00:00:00 GMT",
    "Expires=Thu, 01 Jan 1970 00:00:00 GMT; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
    "Expires=Thu, 01 Jan 1970 00:00:00 GMT " + "x" * 1100,
)


def _held_case(rng: random.Random, granted: frozenset[str] | None) -> tuple[Held, GeneratedLine]:
    """A refused held cookie and a deletion-looking line naming its Path and Domain."""
    refused = [c for c in OPTIONAL if c not in (granted or frozenset())]
    shapes: list[str] = []
    if refused and rng.random() < 0.8:
        category = rng.choice(refused)
        name = policy_name(rng, category)
        shapes.append(f"name:{category}")
    else:
        name = "held_" + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=6))
        shapes.append("name:undeclared")
    lowered = name.lower()
    host_only = lowered.startswith("__host-") or rng.random() < 0.5
    path = "/" if lowered.startswith("__host-") else rng.choice(["/", "/app", "/c/d"])
    secure = lowered.startswith(("__host-", "__secure-")) or rng.random() < 0.3
    held = Held(
        name, f"held-{rng.randint(0, 9999)}", HOST if host_only else "." + SITE, path, secure
    )
    shapes.append("held:host-only" if host_only else "held:domain")
    attributes = []
    if not host_only:
        attributes.append(f"Domain={rng.choice([SITE, '.' + SITE, SITE.upper()])}")
    if secure or rng.random() < 0.2:
        attributes.append("Secure")
    roll = rng.random()
    if roll < 0.3:
        expiry = rng.choice(_REAL_DELETIONS)
        shapes.append("held:real-deletion")
    elif roll < 0.75:
        expiry = rng.choice(_FAKE_DELETIONS)
        shapes.append("held:fake-deletion")
    elif roll < 0.9:
        expiry = "Expires=" + expires_value(rng)[0]
        shapes.append("held:random-expires")
    else:
        expiry = "Max-Age=" + max_age_value(rng)[0]
        shapes.append("held:random-max-age")
    attributes += expiry.split("; ")
    rng.shuffle(attributes)
    at = rng.randint(0, len(attributes))
    attributes.insert(at, f"{rng.choice(['Path', 'path'])}={path}")
    if rng.random() < 0.15:
        # Chromium reads the last Path: the line still names the held cookie's.
        attributes.insert(rng.randint(0, at), "Path=/elsewhere")
        shapes.append("held:decoy-path")
    value = rng.choice(["", "", "deleted", '""', "x"])
    pair = f"{name}={value}"
    if rng.random() < 0.15:
        pair = f" {name} = {value}"
        shapes.append("pair:padded")
    header = "Set-Cookie"
    if rng.random() < 0.1:
        header = rng.choice(["set-cookie", "Set-Cookie "])
        shapes.append(f"header:{header!r}")
    return held, GeneratedLine(pair + "; " + "; ".join(attributes), header, False, tuple(shapes))


# -- what a case puts on the wire ------------------------------------------------------------


def render_call(call: dict[str, Any]) -> list[str]:
    """The Set-Cookie values Django's handlers write for one ``set_cookie`` call (maybe none).

    Only the names and the shape of the lines count here: the view makes the call itself,
    when it serves the response.
    """
    from django.http import HttpResponse

    response = HttpResponse()
    arguments = {k: v for k, v in call.items() if k != "shapes"}
    with contextlib.suppress(Exception):  # the view skips a refused call the same way
        response.set_cookie(**arguments)
    return [morsel.OutputString() for morsel in response.cookies.values()]


def _pair_names(text: str) -> set[str]:
    """Names of one candidate line: the browser's, the nameless value's, each comma piece's."""
    names: set[str] = set()
    pair = text.split(";", 1)[0]
    for piece in [pair, *pair.split(",")]:
        name, eq, value = piece.partition("=")
        if not eq:
            names |= {"", piece.strip(" \t"), piece.strip()}
            continue
        names |= {name.strip(" \t"), name.strip()}
        if not name.strip(" \t"):
            names |= {value.split("=", 1)[0].strip(" \t"), value.strip(" \t")}
    return names


def line_names(value: str) -> set[str]:
    """Every name a line might set or make consentware delete, under any reading.

    The line as written, cut at its first control character, without its control characters,
    with each CR/LF read as a folded space; and each ``Set-Cookie:`` line a CR/LF starts.
    """
    segments = _NEWLINES.split(value)
    texts = [segments[0], _NEWLINES.sub(" ", value)]
    for segment in segments[1:]:
        head, colon, rest = segment.partition(":")
        if colon and head.strip(" \t").lower() == "set-cookie":
            texts.append(rest)
    names: set[str] = set()
    for text in texts:
        for reading in (text, _CTL.split(text, 1)[0], _CTL.sub("", text)):
            names |= _pair_names(reading)
    return names | {view for name in names for view in _browser_views(name)}


_LEAD_AND_NEXT = re.compile(r"[\xc0-\xff].?", re.S)


def _browser_views(text: str) -> set[str]:
    """How Chromium may show a latin-1 string's octets: as UTF-8, invalid sequences left out.

    Chromium's jar leaves out an invalid lead octet alone or with the octet after it
    (``"l\\xc4l3ty"`` is shown as ``"l3ty"``): both readings are kept.
    """
    octets = text.encode("latin-1", "replace")
    views = {octets.decode("utf-8", "ignore")}
    if not text.isascii():
        valid = octets.decode("utf-8", "replace")
        views.add(_LEAD_AND_NEXT.sub("", text) if "\ufffd" in valid else valid)
    return views


@dataclass(frozen=True)
class Config:
    """One server and adapter combination."""

    id: str
    framework: str  # "wsgi", "asgi", "django-wsgi" or "django-asgi"
    serve: Callable[[Any], contextlib.AbstractContextManager[RunningServer]]

    @property
    def is_django(self) -> bool:
        return self.framework.startswith("django")

    def own_response(self, case: Case) -> bool:
        """Whether the case's lines must not share a response with others.

        A control character can end the header block early or make Chromium refuse the whole
        response (NUL); the ASGI servers answer 500 to a header h11 or httptools refuses (edge
        whitespace, an unusual name, a ``str`` pair under httptools); Django's ASGI handler
        encodes cookies as ASCII and writes a raw ``Set-Cookie`` header unstripped.
        """
        for header, value, as_str in case.wire:
            if _CTL.search(value):
                return True
            if self.framework == "asgi" and (
                value != value.strip(" \t") or header not in _PLAIN_HEADERS or as_str
            ):
                return True
            if self.framework == "django-asgi" and (
                not value.isascii() or value != value.strip(" \t")
            ):
                return True
        return False


def _uvicorn(http: str) -> Callable[[Any], contextlib.AbstractContextManager[RunningServer]]:
    return lambda app: serve_asgi(app, http=http)


PLAIN_CONFIGS = [
    Config("wsgi-werkzeug", "wsgi", serve_wsgi),
    Config("wsgi-wsgiref", "wsgi", serve_wsgiref),
    Config("asgi-uvicorn-h11", "asgi", _uvicorn("h11")),
    Config("asgi-uvicorn-httptools", "asgi", _uvicorn("httptools")),
]
DJANGO_CONFIGS = [
    Config("django-wsgi-wsgiref", "django-wsgi", serve_wsgiref),
    Config("django-asgi-uvicorn", "django-asgi", _uvicorn("h11")),
]
CONFIGS = PLAIN_CONFIGS + DJANGO_CONFIGS


# -- the apps --------------------------------------------------------------------------------

#: The cases of each response of the groups being judged, by the ``r`` query parameter.
STAGE: dict[str, list[Case]] = {}
#: The ``Cookie`` headers the GUARDED requests carried, by the ``r`` query parameter.
SENT_BACK: dict[str, list[str]] = {}
_BLANK = b"<!doctype html><title>consentware fuzz</title>"


def _response_cases(query: str) -> list[Case]:
    keys = parse_qs(query).get("r", [""])
    return STAGE.get(keys[0], [])


def bare_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    headers = [("Content-Type", "text/plain")]
    for case in _response_cases(environ.get("QUERY_STRING", "")):
        headers += [(name, value) for name, value, _ in case.wire]
    start_response("200 OK", headers)
    return [b"ok"]


async def bare_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    headers: list[tuple[Any, Any]] = [(b"content-type", b"text/plain")]
    for case in _response_cases(scope.get("query_string", b"").decode("latin-1")):
        for name, value, as_str in case.wire:
            if as_str:
                headers.append((name, value))
            else:
                headers.append((name.encode("latin-1"), value.encode("latin-1")))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


class RawMorsel(Morsel[str]):
    """A morsel Django's handlers write as the raw line (the way to send several)."""

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line

    def OutputString(self, attrs: Any = None) -> str:  # noqa: N802 (the stdlib's name)
        return self.line


def django_view(request: Any) -> Any:
    from django.http import HttpResponse

    response = HttpResponse(b"ok", content_type="text/plain")
    header_used = False
    for number, case in enumerate(_response_cases(request.META.get("QUERY_STRING", ""))):
        if case.call is not None:
            arguments = {k: v for k, v in case.call.items() if k != "shapes"}
            with contextlib.suppress(Exception):
                response.set_cookie(**arguments)
            continue
        assert case.line is not None
        value = case.line.value
        if not header_used and "\r" not in value and "\n" not in value:
            # One line as a raw header (Django keeps one value per header name).
            with contextlib.suppress(Exception):
                response.headers["Set-Cookie"] = value
                header_used = True
                continue
        response.cookies[f"fuzz-line-{number}"] = RawMorsel(value)
    return response


def _sent_back(query: dict[str, list[str]], cookie_header: str) -> None:
    SENT_BACK.setdefault(query.get("r", [""])[0], []).append(cookie_header)


def dispatch_wsgi(bare: Any, guarded: Any) -> Any:
    """``?m=bare`` to the app alone, ``?m=guarded`` through consentware, else a blank page."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        mode = query.get("m", [""])[0]
        if mode == "bare":
            return bare(environ, start_response)  # type: ignore[no-any-return]
        if mode == "guarded":
            _sent_back(query, environ.get("HTTP_COOKIE", ""))
            return guarded(environ, start_response)  # type: ignore[no-any-return]
        start_response("200 OK", [("Content-Type", "text/html")])
        return [_BLANK]

    return app


def dispatch_asgi(bare: Any, guarded: Any) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        mode = query.get("m", [""])[0]
        if mode == "guarded":
            cookies = [v for n, v in scope.get("headers", ()) if n.lower() == b"cookie"]
            _sent_back(query, b"; ".join(cookies).decode("latin-1"))
        if mode in ("bare", "guarded"):
            await (bare if mode == "bare" else guarded)(scope, receive, send)
            return
        headers = [(b"content-type", b"text/html")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": _BLANK})

    return app


@dataclass(frozen=True)
class DjangoApps:
    bare_wsgi: Any
    guarded_wsgi: Any
    bare_asgi: Any
    guarded_asgi: Any


def configure_django() -> None:
    """Configure Django from the example's settings unless something already did.

    The same as tests/test_django.py: settings are configured once per process, and each user
    overrides what it needs with ``override_settings``.
    """
    import django
    from django.conf import settings
    from examples.django_project import settings as example_settings

    if not settings.configured:
        settings.configure(
            **{n: getattr(example_settings, n) for n in dir(example_settings) if n.isupper()}
        )
    django.setup()


@pytest.fixture(scope="module")
def django_apps() -> Iterator[DjangoApps]:
    pytest.importorskip("django")
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings
    from django.urls import re_path

    configure_django()

    class Urlconf:  # ROOT_URLCONF may be any object with urlpatterns
        urlpatterns: ClassVar = [re_path(r"^", django_view)]

    with override_settings(
        ROOT_URLCONF=Urlconf,
        ALLOWED_HOSTS=[HOST, "127.0.0.1"],
        DEBUG=False,
        CONSENTWARE={"policy": POLICY_BLOCK, "secret_key": SECRET},
    ):
        # The handlers load MIDDLEWARE when they are built; the rest is read per request.
        with override_settings(MIDDLEWARE=[]):
            bare = WSGIHandler(), ASGIHandler()
        with override_settings(MIDDLEWARE=["consentware.django.ConsentMiddleware"]):
            guarded = WSGIHandler(), ASGIHandler()
        yield DjangoApps(bare[0], guarded[0], bare[1], guarded[1])


def build_app(config: Config, request: pytest.FixtureRequest) -> Any:
    """The dispatching app of a configuration: bare and guarded side by side."""
    if config.framework == "wsgi":
        from consentware.wsgi import ConsentMiddleware

        guarded = ConsentMiddleware(bare_wsgi, POLICY_BLOCK, secret_key=SECRET)
        return dispatch_wsgi(bare_wsgi, guarded)
    if config.framework == "asgi":
        from consentware.asgi import ConsentMiddleware as AsgiConsentMiddleware

        guarded_asgi = AsgiConsentMiddleware(bare_asgi, POLICY_BLOCK, secret_key=SECRET)
        return dispatch_asgi(bare_asgi, guarded_asgi)
    apps: DjangoApps = request.getfixturevalue("django_apps")
    if config.framework == "django-wsgi":
        return dispatch_wsgi(apps.bare_wsgi, apps.guarded_wsgi)
    return dispatch_asgi(apps.bare_asgi, apps.guarded_asgi)


# -- groups and passes -----------------------------------------------------------------------


@dataclass
class Group:
    """Cases of one consent state with pairwise disjoint names, judged in one pass per side."""

    granted: frozenset[str] | None
    cases: list[Case] = field(default_factory=list)
    alone: bool = False  # every case in a response of its own
    sealed: bool = False  # no other case may join

    def responses(self, config: Config) -> list[tuple[str, list[Case]]]:
        """(request path, cases) of each response."""
        shared: dict[str, list[Case]] = {}
        out: list[tuple[str, list[Case]]] = []
        for case in self.cases:
            if self.alone or config.own_response(case):
                out.append((case.path, [case]))
            else:
                shared.setdefault(case.path, []).append(case)
        for path, cases in shared.items():
            for start in range(0, len(cases), RESPONSE_LINES):
                out.append((path, cases[start : start + RESPONSE_LINES]))
        return out

    @functools.cached_property
    def consent_value(self) -> str | None:
        """The signed consent cookie, the same value on both sides (it holds a timestamp)."""
        return None if self.granted is None else SIGNED.dumps(sorted(self.granted))

    def before(self, base_url: str) -> list[dict[str, Any]]:
        """The cookies the browser holds before the responses: consent and held cookies."""
        cookies = [held.as_playwright() for held in (c.held for c in self.cases) if held]
        if self.consent_value is not None:
            url = base_url + "/"
            cookies.append({"name": CONSENT_NAME, "value": self.consent_value, "url": url})
        return cookies


def plan(cases: Sequence[Case], *, alone: bool = False) -> list[Group]:
    """First-fit the cases into groups (deterministic for a sequence of cases).

    Groups are indexed by the names they hold, so planning 20,000 cases stays quick.
    """
    groups: list[Group] = []
    open_groups: dict[frozenset[str] | None, list[Group]] = {}
    holders: dict[tuple[frozenset[str] | None, str], set[int]] = {}
    for case in cases:
        if any(CONSENT_NAME in value for _, value, _ in case.wire):
            # It may replace or add a consent cookie that the group's other requests would
            # carry (the least consent counts): it is judged in a group of its own.
            groups.append(Group(case.granted, [case], alone=True, sealed=True))
            continue
        key = case.granted
        taken = set().union(*(holders.get((key, name), ()) for name in case.names))
        candidates = open_groups.setdefault(key, [])
        group = next((g for g in candidates if id(g) not in taken), None)
        if group is None:
            group = Group(key, alone=alone)
            groups.append(group)
            candidates.append(group)
        group.cases.append(case)
        for name in case.names:
            holders.setdefault((key, name), set()).add(id(group))
        if len(group.cases) >= GROUP_SIZE:
            candidates.remove(group)
    return groups


def singles(cases: Iterable[Case]) -> list[Group]:
    """A group of its own for each case, its line in a response of its own."""
    return [Group(c.granted, [c], alone=True, sealed=True) for c in cases]


# Started without waiting, so that every side of every group in flight fetches at once.
_START_FETCHES = """urls => {
    window.fuzzStatuses = Promise.all(urls.map(async url => {
        try {
            const signal = AbortSignal.timeout(15000);
            const response = await fetch(url, {cache: "no-store", signal});
            await response.arrayBuffer();
            return response.status;
        } catch (error) {
            return 0;
        }
    }));
}"""
_STATUSES = "() => window.fuzzStatuses"


@dataclass
class Side:
    """One browser context, kept for the whole test and emptied before each pass."""

    mode: str
    context: Any
    page: Any

    def start(self, base_url: str, group: Group, urls: list[str]) -> None:
        self.context.clear_cookies()
        before = group.before(base_url)
        if before:
            self.context.add_cookies(before)
        self.page.evaluate(_START_FETCHES, [url + f"&m={self.mode}" for url in urls])

    def finish(self) -> tuple[list[int], list[dict[str, Any]]]:
        statuses: list[int] = self.page.evaluate(_STATUSES)
        soon = time.time() + SHORT_LIVED
        jar = [c for c in self.context.cookies() if not 0 <= float(c["expires"]) < soon]
        return statuses, jar


# -- the oracle ------------------------------------------------------------------------------


def server_name(cookie: dict[str, Any]) -> str:
    """The name the server sees when the browser sends this cookie back.

    A nameless cookie goes back as its value alone, so its name is the value's text before
    ``=``. Chromium shows octets as UTF-8; the server reads them as latin-1.
    """
    if cookie.get("sent_back"):
        return str(cookie["name"])
    name = str(cookie["name"]) or str(cookie["value"]).split("=", 1)[0].strip(" \t")
    return name.encode("utf-8").decode("latin-1")


def sent_back_cookies(headers: Iterable[str]) -> list[dict[str, Any]]:
    """The cookies of ``Cookie`` headers, as the server reads them (for :func:`judge`)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for header in headers:
        for crumb in header.split(";"):
            crumb = crumb.strip(" \t")
            if not crumb:
                continue
            name, eq, value = crumb.partition("=")
            name = name.strip(" \t") if eq else crumb
            found[(name, value)] = {
                "name": name,
                "value": value,
                "domain": "(sent back by the browser with a later request of the group)",
                "path": "",
                "expires": -1,
                "sent_back": True,
            }
    return list(found.values())


def allowed(cookie: dict[str, Any], granted: frozenset[str]) -> bool:
    return POLICY_BLOCK.category_of(server_name(cookie)) in granted


def deliverable(cookie: dict[str, Any], case: Case | None) -> bool:
    """Whether the contract owes GUARDED this cookie that BARE stored.

    Not when its line holds CR, LF or NUL (a server would split it: consentware drops it), nor
    the consent cookie written by the app (only the consent route writes it), nor an optional
    cookie stored where its rule does not say it lives (a withdrawal could not delete it).
    """
    if case is not None and any(_SPLITS.search(value) for _, value, _ in case.wire):
        return False
    name = server_name(cookie)
    if name == CONSENT_NAME:
        return False
    rule = POLICY_BLOCK.match(name)
    if rule is None or rule.category == "necessary":
        return True
    if not cookie["name"]:
        return False  # a nameless cookie: no deletion can name it, so it is refused
    domain = str(cookie["domain"])
    declared = domain[1:] if domain.startswith(".") else ""
    if cookie.get("partitionKey") and not rule.partitioned:
        return False
    if not str(cookie["name"]).lower().startswith("__host-") and declared not in rule.domains:
        return False
    return bool(cookie["path"] == rule.path)


def _key(cookie: dict[str, Any]) -> tuple[Any, ...]:
    return (
        cookie["name"],
        cookie["domain"],
        cookie["path"],
        cookie.get("partitionKey"),
    )


def same_cookie(one: dict[str, Any], other: dict[str, Any]) -> bool:
    fields = ("name", "value", "domain", "path", "secure", "httpOnly", "sameSite", "partitionKey")
    if any(one.get(f) != other.get(f) for f in fields):
        return False
    a, b = float(one["expires"]), float(other["expires"])
    if a < 0 or b < 0:
        return a == b
    return abs(a - b) <= EXPIRY_TOLERANCE


def _show(cookie: dict[str, Any]) -> str:
    keys = ("name", "value", "domain", "path", "expires", "secure", "httpOnly", "sameSite")
    shown = {k: cookie.get(k) for k in keys}
    if cookie.get("partitionKey"):
        shown["partitionKey"] = cookie["partitionKey"]
    if isinstance(shown["expires"], float) and shown["expires"] > 0:
        shown["expires"] = round(shown["expires"])
    return repr(shown)


@dataclass
class Failure:
    what: str  # "leak", "held-survived", "missing", "changed" or "extra"
    config: str
    test: str
    case: Case | None
    group: Group
    bare: list[dict[str, Any]]
    guarded: list[dict[str, Any]]
    cookies: list[dict[str, Any]]
    alone: bool | None = None  # whether judging the case alone gave the same failure
    statuses: tuple[int, int] | None = None  # of the case's response, BARE and GUARDED

    def related(self, jar: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.case is None or len(self.group.cases) == 1:
            return jar
        names = self.case.names
        return [c for c in jar if c["name"] in names or server_name(c) in names]

    def replay(self) -> str:
        index = "" if self.case is None else f"FUZZ_BROWSER_CASE={self.case.index} "
        return (
            f"FUZZ_BROWSER_SEED={SEED} {index}.venv/bin/pytest "
            f"'tests/fuzz/test_browser_differential.py::{self.test}[{self.config}]'"
        )

    def render(self) -> str:
        case = self.case.describe() if self.case else "(no single case: the group's jar)"
        alone = {
            True: " [the case alone fails the same way]",
            False: " [NOT when the case is judged alone: only beside the lines of its group;"
            " replay the whole test]",
            None: "",
        }[self.alone]
        lines = [
            f"{self.what.upper()} under {self.config}{alone}: {case}",
            "  cookies: " + "; ".join(_show(c) for c in self.cookies),
            f"  response status (0: no response): {self._statuses()}",
            "  BARE jar:    " + ("; ".join(_show(c) for c in self.related(self.bare)) or "-"),
            "  GUARDED jar: " + ("; ".join(_show(c) for c in self.related(self.guarded)) or "-"),
            f"  replay: {self.replay()}",
        ]
        return "\n".join(lines)

    def _statuses(self) -> str:
        if self.statuses is None:
            return "?"
        bare, guarded = self.statuses
        return f"BARE {bare}, GUARDED {guarded}"

    def as_json(self) -> dict[str, Any]:
        case = self.case
        return {
            "what": self.what,
            "config": self.config,
            "test": self.test,
            "seed": SEED,
            "case": None if case is None else case.index,
            "kind": None if case is None else case.kind,
            "granted": None if case is None or case.granted is None else sorted(case.granted),
            "path": None if case is None else case.path,
            "header": None if case is None or case.line is None else case.line.header,
            "as_str": None if case is None or case.line is None else case.line.as_str,
            "line": None if case is None or case.line is None else case.line.value,
            "call": None if case is None or case.call is None else repr(case.call),
            "held": None if case is None or case.held is None else repr(case.held),
            "shapes": [] if case is None else list(case.shapes),
            "cookies": self.cookies,
            "bare": self.related(self.bare),
            "guarded": self.related(self.guarded),
            "replay": self.replay(),
            "alone": self.alone,
            "statuses": self.statuses,
        }


def judge(
    group: Group,
    bare: list[dict[str, Any]],
    guarded: list[dict[str, Any]],
    *,
    sent_back: Sequence[str] = (),
    statuses: dict[int, tuple[int, int]] | None = None,
    config: str,
    test: str,
) -> list[Failure]:
    """GUARDED must be BARE filtered by consent: report every difference, per case."""
    granted = group.cases[0].allowed
    held = {(c.held.name, c.held.value) for c in group.cases if c.held}
    expected = [c for c in bare if allowed(c, granted) and deliverable(c, _owner(group, c))]
    found: list[tuple[str, dict[str, Any]]] = []
    for cookie in guarded:
        if not allowed(cookie, granted):
            survived = (cookie["name"], cookie["value"]) in held
            found.append(("held-survived" if survived else "leak", cookie))
    # A refused cookie GUARDED stored and a later request of the group carried, although
    # consentware's expiry of held cookies removed it before the jar was read.
    in_jar = {(server_name(c), c["value"]) for c in guarded}
    for cookie in sent_back_cookies(sent_back):
        pair = (cookie["name"], cookie["value"])
        if pair in held or pair in in_jar or allowed(cookie, granted):
            continue
        found.append(("leak", cookie))
    missing = [c for c in expected if not any(same_cookie(c, g) for g in guarded)]
    # The visitor's own choice, as the harness planted it, is the only consent cookie GUARDED
    # may hold: an app line for it never leaves.
    planted = group.consent_value
    extra = [
        g
        for g in guarded
        if allowed(g, granted)
        and not any(same_cookie(g, c) for c in expected)
        and not (server_name(g) == CONSENT_NAME and g["value"] == planted and g["path"] == "/")
        and _bare_answered(g, group, statuses)
    ]
    extra_keys = {_key(g) for g in extra}
    missing_keys = {_key(c) for c in missing}
    found += [("changed" if _key(c) in extra_keys else "missing", c) for c in missing]
    found += [("extra", g) for g in extra if _key(g) not in missing_keys]
    failures: dict[tuple[str, int], Failure] = {}
    for what, cookie in found:
        case = _owner(group, cookie)
        slot = (what, -1 if case is None else case.index)
        if slot in failures:
            failures[slot].cookies.append(cookie)
        else:
            failure = Failure(what, config, test, case, group, bare, guarded, [cookie])
            if case is not None and statuses:
                failure.statuses = statuses.get(case.index)
            failures[slot] = failure
    return list(failures.values())


def _bare_answered(
    cookie: dict[str, Any], group: Group, statuses: dict[int, tuple[int, int]] | None
) -> bool:
    """Whether BARE's server answered the cookie's case: where it refused a header shape the
    app wrote (a name with a space, say) and GUARDED sent the header repaired, a necessary
    cookie only GUARDED delivers is no extra."""
    case = _owner(group, cookie)
    if case is None or not statuses or case.index not in statuses:
        return True
    return statuses[case.index][0] == 200


def _owner(group: Group, cookie: dict[str, Any]) -> Case | None:
    """The case whose names include this cookie's (names are disjoint within a group).

    Failing that, the one case whose lines hold the cookie's value.
    """
    name = server_name(cookie)
    names = {str(cookie["name"]), name, *_browser_views(name)}
    owners = [case for case in group.cases if not case.names.isdisjoint(names)]
    if not owners and len(str(cookie["value"])) >= 3:
        value = str(cookie["value"])
        owners = [c for c in group.cases if any(value in _shown(v) for _, v, _ in c.wire)]
    return owners[0] if len(owners) == 1 else None


def _shown(text: str) -> str:
    return text.encode("latin-1", "replace").decode("utf-8", "ignore")


# -- running a test --------------------------------------------------------------------------


@dataclass
class Run:
    """Counts that show a run was not vacuous, and every failure."""

    config: Config
    test: str
    failures: list[Failure] = field(default_factory=list)
    groups: int = 0
    responses: int = 0
    rerun_alone: int = 0
    expected: int = 0
    refused_in_bare: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        kinds = Counter(f.what for f in self.failures)
        return (
            f"{self.config.id}: {self.groups} groups, {self.responses} responses "
            f"({self.rerun_alone} groups judged again line by line), {self.expected} necessary "
            f"or granted cookies stored by BARE, {self.refused_in_bare} refused ones, "
            f"{self.seconds:.1f} s; failures: {dict(kinds) or 'none'}; seed {SEED}"
        )


def run_cases(
    workers: Sequence[tuple[Side, Side]],
    config: Config,
    app: Any,
    cases: Sequence[Case],
    test: str,
) -> Run:
    """Judge the cases in groups, then each failing case again alone (to tell the reader)."""
    run = Run(config, test)
    started = time.perf_counter()
    with config.serve(app) as server:
        base_url = f"http://{HOST}:{server.port}"
        for pair in workers:
            for side in pair:
                side.page.goto(base_url + "/")
        groups = singles(cases) if ONLY else plan(cases)
        run.failures = judge_groups(run, workers, base_url, groups)
        failing = {f.case.index: f.case for f in run.failures if f.case is not None}
        if failing and not ONLY:
            alone = judge_groups(run, workers, base_url, singles(failing.values()))
            again = {(f.what, f.case.index) for f in alone if f.case is not None}
            for failure in run.failures:
                if failure.case is not None:
                    failure.alone = (failure.what, failure.case.index) in again
    run.seconds = time.perf_counter() - started
    return run


def judge_groups(
    run: Run, workers: Sequence[tuple[Side, Side]], base_url: str, pending: list[Group]
) -> list[Failure]:
    """Judge every group, :data:`WORKERS` in flight at once; each group is one pass a side."""
    failures: list[Failure] = []
    number = 0
    while pending:
        flight = []
        STAGE.clear()
        SENT_BACK.clear()
        for bare_side, guarded_side in workers[: len(pending)]:
            group = pending.pop(0)
            number += 1
            responses = group.responses(run.config)
            urls = []
            for index, (path, response_cases) in enumerate(responses):
                key = f"{number}.{index}"
                STAGE[key] = response_cases
                urls.append(f"{base_url}{path}?r={key}")
            bare_side.start(base_url, group, urls)
            guarded_side.start(base_url, group, urls)
            flight.append((number, group, responses, bare_side, guarded_side))
        for flight_number, group, responses, bare_side, guarded_side in flight:
            (bare_status, bare), (guarded_status, guarded) = (
                bare_side.finish(),
                guarded_side.finish(),
            )
            run.groups += 1
            run.responses += len(responses)
            broken = any(
                len(shared) > 1 and (b != 200 or g != 200)
                for (_, shared), b, g in zip(responses, bare_status, guarded_status, strict=True)
            )
            if broken and not group.alone:
                run.rerun_alone += 1
                pending[:0] = plan(group.cases, alone=True)
                continue
            granted = group.cases[0].allowed
            run.expected += sum(allowed(c, granted) for c in bare)
            run.refused_in_bare += sum(not allowed(c, granted) for c in bare)
            sent_back = [
                header
                for index in range(len(responses))
                for header in SENT_BACK.get(f"{flight_number}.{index}", [])
            ]
            statuses = {
                case.index: (b, g)
                for (_, shared), b, g in zip(responses, bare_status, guarded_status, strict=True)
                for case in shared
            }
            failures += judge(
                group,
                bare,
                guarded,
                sent_back=sent_back,
                statuses=statuses,
                config=run.config.id,
                test=run.test,
            )
    STAGE.clear()
    SENT_BACK.clear()
    return failures


def report(run: Run) -> None:
    """Print the run's counts; write its failures to FUZZ_BROWSER_REPORT; fail with them."""
    print(run.summary())
    if REPORT and run.failures:
        with open(REPORT, "a", encoding="utf-8") as out:
            for failure in run.failures:
                out.write(json.dumps(failure.as_json()) + "\n")
    if run.failures:
        shown = "\n\n".join(f.render() for f in run.failures[:SHOWN_FAILURES])
        more = len(run.failures) - SHOWN_FAILURES
        tail = f"\n\n... and {more} more (FUZZ_BROWSER_REPORT=path writes all)" if more > 0 else ""
        pytest.fail(
            f"{len(run.failures)} lines judged differently by the browser.\n"
            f"{run.summary()}\n\n{shown}{tail}",
            pytrace=False,
        )


def cases_of(kind: str, count: int) -> list[Case]:
    indexes: Iterable[int] = ONLY or range(count)
    return [make_case(kind, index) for index in indexes]


@pytest.fixture(scope="module")
def workers() -> Iterator[list[tuple[Side, Side]]]:
    """:data:`WORKERS` pairs of browser contexts (BARE, GUARDED), shared by the module's tests.

    A context and its page cost about a third of a CPU second to start, more than judging
    fifty lines: they are emptied before each pass instead.
    """
    with launch_chromium() as chromium:
        pairs = []
        for _ in range(WORKERS):
            bare, guarded = (
                Side(mode, context, context.new_page())
                for mode, context in (
                    ("bare", chromium.new_context()),
                    ("guarded", chromium.new_context()),
                )
            )
            pairs.append((bare, guarded))
        yield pairs


@pytest.fixture(autouse=True)
def _quiet_servers() -> Iterator[None]:
    """No access log line per request, no warning per unknown name: thousands of each.

    Nor the traceback of each header uvicorn or Django refuses: those responses are 500s, and a
    failure's message shows the status of its case's response. (A filter, since uvicorn sets
    its loggers' levels when it starts.)
    """
    levels = {"werkzeug": logging.ERROR, "consentware": logging.ERROR}
    saved = {name: logging.getLogger(name).level for name in levels}
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    refused = [logging.getLogger(name) for name in ("uvicorn.error", "django.request")]
    for logger in refused:
        logger.addFilter(_refused_header)
    yield
    for logger in refused:
        logger.removeFilter(_refused_header)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def _refused_header(record: logging.LogRecord) -> bool:
    message = str(record.msg)
    return not message.startswith(("Exception in ASGI application", "Internal Server Error"))


def _check(
    workers: list[tuple[Side, Side]],
    config: Config,
    request: pytest.FixtureRequest,
    kind: str,
    count: int,
) -> None:
    app = build_app(config, request)
    cases = cases_of(kind, count)
    run = run_cases(workers, config, app, cases, request.node.originalname)
    if not ONLY and len(cases) >= 100:
        # Not vacuous: the browser stored lines of both kinds, and GUARDED was compared.
        assert run.expected > 0, run.summary()
        assert run.refused_in_bare > 0, run.summary()
    report(run)


@pytest.mark.browser
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.id)
def test_raw_lines(
    workers: list[tuple[Side, Side]], config: Config, request: pytest.FixtureRequest
) -> None:
    """Generated lines in every shape, written raw by the app."""
    _check(workers, config, request, "raw", LINES)


@pytest.mark.browser
@pytest.mark.parametrize("config", DJANGO_CONFIGS, ids=lambda c: c.id)
def test_django_set_cookie(
    workers: list[tuple[Side, Side]], config: Config, request: pytest.FixtureRequest
) -> None:
    """Django views calling ``response.set_cookie`` with generated arguments."""
    _check(workers, config, request, "set_cookie", max(LINES // 2, 1))


@pytest.mark.browser
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.id)
def test_held_refused_cookie(
    workers: list[tuple[Side, Side]], config: Config, request: pytest.FixtureRequest
) -> None:
    """The browser holds a refused cookie; the app sends a deletion-looking line for it."""
    _check(workers, config, request, "held", max(LINES // 2, 1))


# -- the generator itself (no browser) -------------------------------------------------------


@pytest.mark.parametrize("kind", ["raw", "set_cookie", "held"])
def test_cases_are_a_function_of_the_seed(kind: str) -> None:
    first = [make_case(kind, i, seed="7") for i in range(50)]
    again = [make_case(kind, i, seed="7") for i in range(50)]
    other = [make_case(kind, i, seed="8") for i in range(50)]
    assert [c.describe() for c in first] == [c.describe() for c in again]
    assert [c.describe() for c in first] != [c.describe() for c in other]


def test_the_generator_makes_every_shape() -> None:
    shapes = Counter(s for i in range(3000) for s in make_case("raw", i, seed="0").shapes)
    prefixes = {s.split(":")[0] + ":" + s.split(":")[1].split("@")[0] for s in shapes if ":" in s}
    for wanted in [
        "name:necessary",
        "name:statistical",
        "name:first_party",
        "name:third_party",
        "name:undeclared",
        "name:token",
        "name:case",
        "name:prefix",
        "name:utf8",
        "name:raw-latin1",
        "pair:nameless",
        "pair:bare",
        "pair:comma",
        "pair:padded",
        "ctl:CR",
        "ctl:LF",
        "ctl:CRLF",
        "ctl:NUL",
        "ctl:C0",
        "ctl:DEL",
        "ctl:header-injection",
        "expires:rfc1123",
        "expires:rfc850",
        "expires:asctime",
        "expires:two-digit-year",
        "expires:odd-year",
        "expires:year-first",
        "expires:leading-zeros",
        "expires:no-time",
        "expires:bad-time",
        "expires:far",
        "expires:garbage",
        "max-age:zero",
        "max-age:negative",
        "max-age:huge",
        "max-age:signed",
        "max-age:junk",
        "asgi:str-pair",
    ]:
        assert wanted in prefixes, wanted
    assert {"repeated", "long-attribute", "partitioned", "samesite", "secure"} <= set(shapes)
    assert any(s.startswith("header:") for s in shapes)


@scaled(200)
@given(line=lines(site=SITE))
def test_the_grouping_names_hold_the_reference_name(line: GeneratedLine) -> None:
    """The name the in-process fuzz oracle derives is among a line's grouping names."""
    assert reference_name(line.value) in line_names(line.value)


def test_names_cover_every_reading() -> None:
    assert {"a", "_ga"} <= line_names("a=1, _ga=2; Path=/")
    assert {"", "_ga"} <= line_names("=_ga=1")
    assert {"sessionid", "_ga"} <= line_names("sessionid=1\r\nSet-Cookie: _ga=2")
    assert {"ab", "a"} <= line_names("a\x01b=1")
    assert "n" in line_names("n\xe9=1")  # what Chromium shows of a raw latin-1 octet
    assert "l3ty" in line_names("l\xc4l3ty=1")  # an invalid lead octet and the next one
    assert "\u00fc" in line_names("\xc3\xbc=1")  # UTF-8 octets, as the browser shows them
    assert cookie_name(random.Random(1))[0]
