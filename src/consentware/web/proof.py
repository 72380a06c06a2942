"""What the consent route proves about a choice, sans I/O: the texts shown and their hash, the
visitor's consent id, the page the choice was made on.

``POST {prefix}`` puts one :class:`~consentware.receipts.Receipt` on its response for every
consent change; this module supplies its parts. :func:`policy_hash` is the SHA-256 of
:func:`shown_texts` (the categories with their titles and descriptions, the cookie table, the
revision and the language, as canonical JSON): keep ``shown_texts`` of each revision in version
control and a receipt's ``policy_hash`` says which one the visitor saw.

Example::

    document = shown_texts(policy)          # what the banner and the policy page show
    policy_hash(policy) == canonical_sha256(document)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..core.policy import Policy
from ..core.state import ConsentState
from ..receipts import canonical_sha256, is_consent_id, new_consent_id
from .cross_site import origin_of, url_origin
from .messages import EndpointRequest
from .pages import policy_document

__all__ = ["consent_id_for", "page_of", "policy_hash", "shown_texts"]


def shown_texts(policy: Policy, language: str | None = None) -> dict[str, Any]:
    """The texts a visitor reads before choosing, as data: the policy page's document (every
    category's title and description, the cookie table, the revision) and the language of the
    texts (``None`` while consentware shows one set of texts, in the policy's own words)."""
    return {"language": language, "policy": policy_document(policy)}


def policy_hash(policy: Policy, language: str | None = None) -> str:
    """SHA-256 (hex) of :func:`shown_texts` as canonical JSON: a receipt's ``policy_hash``."""
    return canonical_sha256(shown_texts(policy, language))


def consent_id_for(state: ConsentState) -> str:
    """The consent id of the visitor's next consent cookie: the one their current, valid
    cookie carries, so their receipts link up; a fresh one when there is none.

    An id that a receipt could not hold (an unsigned cookie written by a page script may carry
    anything) is replaced rather than recorded.
    """
    current = state.consent_id  # None unless the cookie is valid for this revision
    if current and is_consent_id(current):
        return current
    return new_consent_id()


def page_of(next_value: str | None, request: EndpointRequest) -> str | None:
    """The page a choice was made on: the form's ``next`` (the banner puts the page it is on
    there), else the ``Referer`` when it is a page of this origin. The receipt keeps only the
    path; ``None`` when neither says."""
    if next_value:
        return next_value
    referer = (request.referer or "").strip()
    here = origin_of(request.scheme, request.host or "")
    if not referer or here is None or url_origin(referer) != here:
        return None
    try:
        return urlsplit(referer).path or "/"
    except ValueError:
        return None
