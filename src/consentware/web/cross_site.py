"""The consent route's cross-site check: forged consent is a CSRF attack.

:func:`cross_site_refusal` says whether another site (or a sibling subdomain, or a page on the
other scheme) could have sent the request; the route then refuses it with ``403``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .messages import DEFAULT_PORTS, REASON_CROSS_SITE, EndpointRequest

__all__ = ["cross_site_refusal"]


def cross_site_refusal(request: EndpointRequest) -> str | None:
    """Why ``request`` is refused as cross-site, or ``None``: anything another site could have
    sent is refused.

    An origin is a scheme and an authority: on ``https``, ``Origin: http://<same host>`` is a
    page an active network attacker can write, so it is another site.
    """
    fetch_site = (request.sec_fetch_site or "").strip().lower()
    # "same-site" is another origin of the site, such as a sibling subdomain's page: it must
    # not choose for this one any more than another site may.
    if fetch_site in ("cross-site", "same-site"):
        return REASON_CROSS_SITE
    here = origin_of(request.scheme, request.host or "")
    origin = request.origin
    if origin is not None and origin.strip():
        origin = origin.strip()
        # Chromium sends "Origin: null" on a same-origin post under "no-referrer"; only the
        # Sec-Fetch-Site header can vouch for it then.
        if origin == "null":
            return None if fetch_site == "same-origin" else REASON_CROSS_SITE
        return REASON_CROSS_SITE if here is None or url_origin(origin) != here else None
    referer = request.referer
    if referer is not None and referer.strip() and (here is None or url_origin(referer) != here):
        return REASON_CROSS_SITE
    return None


def origin_of(scheme: str, netloc: str) -> tuple[str, str] | None:
    """(scheme, authority) with the scheme's default port left out; ``None`` without a host."""
    scheme = scheme.strip().lower()
    netloc = netloc.strip().lower()
    if not netloc:
        return None
    default_port = DEFAULT_PORTS.get(scheme)
    if default_port and netloc.endswith(":" + default_port):
        netloc = netloc[: -len(default_port) - 1]
    # A websocket's origin is its page's: ws and wss answer pages served over http and https.
    return {"ws": "http", "wss": "https"}.get(scheme, scheme), netloc


def url_origin(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return origin_of(parts.scheme, parts.netloc.rsplit("@", 1)[-1])
