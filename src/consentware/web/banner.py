"""The consent banner: HTML that works without JavaScript, its assets, and banner injection.

:func:`banner_html` renders a ``<form method="post">`` to the consent route with *Accept all*
and *Reject all* buttons of the same element and class, and a checkbox per category with a
*Save* button, in the visitor's language (:mod:`consentware.web.texts`). ``banner.js`` (served
by the middleware, no inline script, no external resource) only enhances it: it posts JSON with
``fetch``, hides the banner without a reload, re-opens it from any element marked
``data-consentware-settings``, closes what Escape should close and gives the focus back, and
keeps the floating banner from covering the page (room below it and scroll padding).

Render it first in the ``<body>`` (injection does): keyboard and screen reader users then meet
it before the page.

:func:`injection_point` and :func:`inject` decide, without I/O, whether and where a response
gets the banner when a middleware runs with ``inject_banner=True``.

Example (in a template, right after ``<body>``)::

    {{ banner_html(get_consent(request), policy, next_url=request.path,
                   accept_language=request.headers.get("Accept-Language", "")) }}
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from markupsafe import Markup, escape

from ..core.decision import merge_vary
from ..core.policy import NECESSARY, Category, Policy
from ..core.state import ConsentState, vary_on_language
from .texts import Catalog, catalog

__all__ = [
    "BANNER_MARKER",
    "Asset",
    "assets",
    "banner_html",
    "body_start",
    "inject",
    "injection_point",
    "negotiated_banner",
    "wants_banner",
    "with_content_length",
    "with_vary",
]

#: The marker attribute of the banner's root element; injection skips a page that has one.
BANNER_MARKER: Final = "data-consentware-banner"
#: Responses larger than this are never rewritten to carry the banner.
MAX_INJECT_BYTES: Final = 1024 * 1024
_CONTENT_TYPES: Final = {"banner.js": "text/javascript; charset=utf-8", "banner.css": "text/css"}


@dataclass(frozen=True, slots=True)
class Asset:
    """A static file of the banner, with its validator and cache-busting version."""

    name: str
    body: bytes
    content_type: str
    etag: str
    version: str


@cache
def assets() -> Mapping[str, Asset]:
    """``banner.js`` and ``banner.css`` from the package data, read once per process."""
    found: dict[str, Asset] = {}
    folder = resources.files("consentware.web").joinpath("static")
    for name, content_type in _CONTENT_TYPES.items():
        body = folder.joinpath(name).read_bytes()
        digest = hashlib.sha256(body).hexdigest()
        found[name] = Asset(name, body, content_type, f'"{digest[:32]}"', digest[:12])
    return found


def banner_html(
    state: ConsentState,
    policy: Policy,
    *,
    prefix: str = "/_consent",
    next_url: str | None = None,
    nonce: str | None = None,
    inline: bool = False,
    language: str | None = None,
    accept_language: str | None = None,
) -> Markup:
    """The banner for ``state``: visible when the visitor must still choose, else hidden.

    :param state: the request's consent (:func:`consentware.get_consent`).
    :param policy: the policy whose categories the banner offers.
    :param prefix: where the middleware serves the consent routes.
    :param next_url: where a form post returns (a same-site path; the current page).
    :param nonce: a CSP nonce for the ``<link>`` and ``<script>`` tags.
    :param inline: render it as a section of the page (always shown, not floating), as the
        cookie policy page does.
    :param language: the app's own choice of language (Django's active language, say); used
        when the policy offers it.
    :param accept_language: the request's ``Accept-Language`` (``""`` when it has none),
        which chooses otherwise. The response then varies on it: the middleware watching
        ``state`` adds ``Vary: Accept-Language``. Not given, the banner is in the policy's
        ``default_language`` (or ``language``).
    """
    texts = catalog(policy)
    choice = texts.choose(app_language=language, accept_language=accept_language)
    if choice.vary:
        vary_on_language(state)
    lang = choice.language
    words = texts.words(lang)
    # Reading through the public properties marks the response as varying on Cookie: the
    # banner shows or hides, and ticks boxes, by the visitor's consent, so a shared cache must
    # not serve one visitor's page to another.
    decided = state.decided
    granted = state.granted
    ask = inline or wants_banner(state)
    classes = "consentware consentware--page" if inline else "consentware"
    files = assets()
    nonce_attr = Markup(' nonce="{}"').format(nonce) if nonce else Markup("")
    prefix_e = escape(prefix)
    root = Markup(
        '<section id="consentware-banner" class="{}" {} aria-labelledby="{}" lang="{}" '
        'data-consentware-saved="{}"{}>'
    )
    if inline:
        # A section of the policy page, under its own "Your choices" heading: the page links
        # the stylesheet and explains the cookies, so neither is repeated here.
        parts = [
            root.format(
                classes, Markup(BANNER_MARKER), "cw-choices", lang, words["banner.saved"], ""
            ),
            Markup('<form class="consentware__form" method="post" action="{}">').format(prefix_e),
        ]
    else:
        policy_url = f"{prefix}/policy"
        if len(texts.offered) > 1:
            policy_url += f"?lang={lang}"
        parts = [
            Markup('<link rel="stylesheet" href="{}/banner.css?v={}"{}>').format(
                prefix_e, files["banner.css"].version, nonce_attr
            ),
            root.format(
                classes,
                Markup(BANNER_MARKER),
                "consentware-title",
                lang,
                words["banner.saved"],
                Markup("") if ask else Markup(" hidden"),
            ),
            Markup('<form class="consentware__form" method="post" action="{}">').format(prefix_e),
            # Shown by banner.js when the banner is re-opened: a choice already exists then.
            Markup(
                '<button type="button" class="consentware__close" data-consentware-close '
                'hidden aria-label="{}"><span aria-hidden="true">&times;</span></button>'
            ).format(words["banner.close"]),
            Markup('<h2 id="consentware-title" class="consentware__title">{}</h2>').format(
                words["banner.title"]
            ),
            Markup('<p class="consentware__text">{} <a href="{}">{}</a>.</p>').format(
                words["banner.text"], policy_url, words["banner.policy_link"]
            ),
        ]
    if next_url is not None:
        parts.append(Markup('<input type="hidden" name="next" value="{}">').format(next_url))
    button = Markup(
        '<button type="submit" class="consentware__button" name="action" value="{}">{}</button>'
    )
    parts.append(
        Markup('<div class="consentware__actions">{}{}</div>').format(
            button.format("accept_all", words["banner.accept_all"]),
            button.format("reject_all", words["banner.reject_all"]),
        )
    )
    parts.append(
        Markup(
            '<details class="consentware__details"{}>'
            '<summary class="consentware__summary">{}</summary>'
            '<fieldset class="consentware__categories">'
            '<legend class="consentware__legend">{}</legend>'
        ).format(
            Markup(" open") if decided or inline else Markup(""),
            words["banner.choose"],
            words["banner.categories"],
        )
    )
    parts.extend(
        _category(category, granted, decided, texts, lang)
        for category in policy.categories.values()
    )
    # "Your choices are saved." is said in a live region: inside the page's form, which stays;
    # beside the floating banner, which hides (a region inside it would never be heard).
    status = Markup(
        '<p class="{}" role="status" aria-live="polite" data-consentware-status></p>'
    ).format("consentware__status" if inline else "consentware-status")
    parts.append(
        Markup(
            "</fieldset>"
            '<button type="submit" class="consentware__button consentware__button--save" '
            'name="action" value="save">{}</button>'
            "</details>"
            "{}</form></section>{}"
        ).format(words["banner.save"], status if inline else "", "" if inline else status)
    )
    parts.append(
        Markup('<script src="{}/banner.js?v={}" defer{}></script>').format(
            prefix_e, files["banner.js"].version, nonce_attr
        )
    )
    return Markup("").join(parts)


def _category(
    category: Category, granted: frozenset[str], decided: bool, texts: Catalog, lang: str
) -> Markup:
    ident = f"consentware-{category.name}"
    required = category.name == NECESSARY or category.required
    # No box is ticked in advance for a visitor who has not chosen yet (opt-in).
    checked = required or (decided and category.name in granted)
    state = Markup(" checked") if checked else Markup("")
    if required:
        state += Markup(" disabled")
    description = (
        Markup('<p class="consentware__description" id="{}-description">{}</p>').format(
            ident, texts.markup(category.description, lang)
        )
        if category.description
        else Markup("")
    )
    described = (
        Markup(' aria-describedby="{}-description"').format(ident)
        if category.description
        else Markup("")
    )
    always = texts.words(lang)["banner.always_on"]
    return Markup(
        '<div class="consentware__category">'
        '<input type="checkbox" class="consentware__checkbox" id="{}" name="category" '
        'value="{}"{}{}>'
        '<label class="consentware__label" for="{}">{}{}</label>{}</div>'
    ).format(
        ident,
        category.name,
        state,
        described,
        ident,
        texts.markup(category.title, lang),
        Markup(' <span class="consentware__always">{}</span>').format(always) if required else "",
        description,
    )


# -- injection ---------------------------------------------------------------------------------


def wants_banner(state: ConsentState) -> bool:
    """Whether the visitor must still choose: no valid choice, or categories never asked."""
    return not state.decided or bool(state.pending)


#: Why an HTML page for an undecided visitor did not get the banner, for the warning said once.
SKIP_COMPRESSED: Final = (
    "consentware could not inject the banner into a compressed page (Content-Encoding): "
    "put the compressor outside consentware. Django: GZipMiddleware above consentware's "
    "middleware. Starlette or FastAPI: under consentware.starlette.install() every middleware "
    "of the app runs inside consentware, GZipMiddleware too, so serve GZipMiddleware(app) "
    "instead of app; with add_middleware, add GZipMiddleware after ConsentMiddleware. Or "
    "render consent_banner() in the template"
)
SKIP_TOO_LARGE: Final = (
    f"consentware did not inject the banner into a page over {MAX_INJECT_BYTES} bytes; "
    "render consent_banner() in the template instead"
)


def injection_point(
    state: ConsentState,
    status: int,
    headers: Iterable[tuple[str, str]],
    on_skip: Callable[[str], object] | None = None,
) -> str | None:
    """The charset to encode the banner in, if this response should get it; else ``None``.

    Only a visitor who must still choose, only a ``2xx`` uncompressed ``text/html`` response
    with a body, and only a charset Python knows. ``on_skip`` is told why (a ``SKIP_*``) when
    an HTML page the visitor should see the banner on cannot get it.
    """
    if not wants_banner(state):
        return None
    if not 200 <= status < 300 or status in (204, 205, 206):
        return None
    content_type = ""
    skipped = ""
    for name, value in headers:
        lowered = name.lower()
        if lowered == "content-type":
            content_type = value
        elif lowered == "content-encoding":
            if value.strip().lower() not in ("", "identity"):
                skipped = SKIP_COMPRESSED
        elif lowered == "content-length":
            length = value.strip()
            if not length.isdigit() or int(length) > MAX_INJECT_BYTES:
                skipped = skipped or SKIP_TOO_LARGE
    media_type, _, params = content_type.partition(";")
    if media_type.strip().lower() != "text/html":
        return None
    if skipped:
        if on_skip is not None:
            on_skip(skipped)
        return None
    charset = "utf-8"
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        codecs.lookup(charset)
    except LookupError:
        return None
    return charset


# Where the body starts: the first <body> start tag, read tag by tag (attributes skipped
# whole, comments and raw text too: a <script> in the head may write "<body"). Every pattern
# is linear: no nested repetition.
_TOKEN: Final = re.compile(rb"<!--|<([a-z][a-z0-9-]*)(?=[\s/>])")
_TAG_REST: Final = re.compile(rb"""(?:[^>"']|"[^"]*"|'[^']*')*>""")
_RAW_TEXT: Final = frozenset({b"script", b"style", b"title", b"textarea", b"xmp", b"noframes"})


def body_start(lowered: bytes) -> int:
    """Where the content of the page's ``<body>`` starts (just after its start tag), or -1.

    ``lowered`` is the page, lowercased.
    """
    at = 0
    while True:
        token = _TOKEN.search(lowered, at)
        if token is None:
            return -1
        if token.group(0) == b"<!--":
            close = lowered.find(b"-->", token.end())
            if close < 0:
                return -1
            at = close + 3
            continue
        rest = _TAG_REST.match(lowered, token.end())
        if rest is None:
            return -1
        name = token.group(1)
        if name == b"body":
            return rest.end()
        at = rest.end()
        if name in _RAW_TEXT:
            close = lowered.find(b"</" + name, at)
            if close < 0:
                return -1
            at = close


def inject(body: bytes, banner: str, charset: str) -> bytes | None:
    """``body`` with ``banner`` first in its ``<body>``, or ``None`` to leave it untouched.

    First, so that keyboard and screen reader users meet it before the page (the stylesheet
    keeps it floating at the bottom of the window); a page whose ``<body>`` start tag is
    omitted gets it before its last ``</body>``. ``None`` when there is neither, when the
    page already has a banner, or when the body is too large to rewrite.
    """
    if len(body) > MAX_INJECT_BYTES:
        return None
    lowered = body.lower()
    marker = BANNER_MARKER.encode("ascii")
    if marker in lowered:
        return None
    at = body_start(lowered)
    if at < 0:
        at = lowered.rfind(b"</body")
    if at < 0:
        return None
    try:
        encoded = banner.encode(charset, errors="xmlcharrefreplace")
    except (LookupError, UnicodeError):
        return None
    return body[:at] + encoded + body[at:]


def negotiated_banner(
    state: ConsentState,
    policy: Policy,
    *,
    prefix: str,
    next_url: str | None,
    accept_language: str | None,
    language: str | None = None,
) -> tuple[Markup, bool]:
    """The banner in this request's language, and whether ``Accept-Language`` chose it, for an
    injector that writes the response's headers itself (then it adds the ``Vary``)."""
    choice = catalog(policy).choose(app_language=language, accept_language=accept_language)
    markup = banner_html(state, policy, prefix=prefix, next_url=next_url, language=choice.language)
    return markup, choice.vary


def with_vary(
    headers: Iterable[tuple[str, str]], name: str, *, header_name: str = "Vary"
) -> list[tuple[str, str]]:
    """``headers`` with ``name`` merged into their ``Vary`` (one header, what was there kept),
    written as ``header_name`` (ASGI wants ``vary``)."""
    out: list[tuple[str, str]] = []
    existing: list[str] = []
    for header, value in headers:
        if header.lower() == "vary":
            existing.append(value)
        else:
            out.append((header, value))
    out.append((header_name, merge_vary(existing, (name,))))
    return out


def with_content_length(
    headers: Iterable[tuple[str, str]], length: int, *, name: str = "Content-Length"
) -> list[tuple[str, str]]:
    """``headers`` with ``Content-Length`` set to ``length`` (replacing every copy), written as
    ``name`` (ASGI wants ``content-length``)."""
    out = [(n, v) for n, v in headers if n.lower() != "content-length"]
    out.append((name, str(length)))
    return out
