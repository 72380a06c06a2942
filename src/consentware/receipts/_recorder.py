"""The consent route's receipts: built on the request (sans I/O), handed to a sink.

:class:`ReceiptBuilder` turns a choice and what the request said into a :class:`Receipt`
(hashing the user agent with the site's key, keeping only the path of the page, checking the
language tag); the consent route (``consentware.web.endpoint``) uses one and puts the receipt
on its response. :class:`ReceiptRecorder` is a builder and a sink together: the adapters hand it
the route's receipts (:meth:`ReceiptRecorder.submit`), and code outside a middleware can build
and submit in one call (:meth:`ReceiptRecorder.record`). Neither raises nor blocks: a receipt
that cannot even be built is logged at ERROR on ``consentware.receipts`` with its fields.

Example::

    recorder = ReceiptRecorder(receipts or LogReceipts(), user_agent_key=secret_key)

    recorder.record(
        consent_id=consent_id,              # the id the new consent cookie carries
        action="save",                      # ACTIONS; a JSON post is "save"
        granted=granted,                    # optional categories now granted
        refused=refused,                    # the other optional categories
        revision=policy.revision,
        policy_hash=shown_texts_hash,       # canonical_sha256 of what the visitor was shown
        method="form",                      # or "json"
        page=next_path,                     # the same-site path the choice was made on
        gpc=state.gpc,
        language="fr",
        user_agent=headers.get("user-agent"),
    )

    # ASGI lifespan shutdown:   await recorder.aflush()
    # WSGI / process exit:      nothing to do (an atexit hook flushes every recorder)
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import re
import weakref
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Final

# Imported first so that its exit hook (closing the SQL stores' writers) is registered before
# this module's: atexit runs hooks last in, first out, so every recorder is flushed while the
# writers still run.
from . import _writer  # noqa: F401  # isort: skip
from ._receipt import Receipt, hash_user_agent, is_language_tag
from ._sink import LOGGER_NAME, LogReceipts, ReceiptSink, log_unkept

__all__ = ["EXIT_TIMEOUT", "ReceiptBuilder", "ReceiptRecorder", "same_site_path"]

logger = logging.getLogger(LOGGER_NAME)
_UNSAFE_PATH = re.compile(r"[\x00-\x20\x7f\\]")
#: How long the exit hook and an ASGI lifespan shutdown let a recorder's sink drain, in seconds.
EXIT_TIMEOUT: Final = 10.0


class ReceiptBuilder:
    """Builds the receipt of one consent change; pure apart from the clock and the random id.

    :param user_agent_key: the key of :func:`hash_user_agent` (the site's secret; with rotated
        keys, the current one). None: receipts carry no user-agent hash, since an unkeyed hash
        of a user agent could be reversed by guessing.
    :param clock: the time of ``recorded_at`` (tests inject one); default UTC now.
    """

    __slots__ = ("_clock", "_key")

    def __init__(
        self,
        *,
        user_agent_key: str | bytes | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._key = user_agent_key or None
        self._clock = clock or _utc_now

    @property
    def hashes_user_agents(self) -> bool:
        """Whether receipts carry a user-agent hash (a key was given)."""
        return self._key is not None

    def build(
        self,
        *,
        consent_id: str,
        action: str,
        granted: Iterable[str],
        refused: Iterable[str],
        revision: int,
        policy_hash: str,
        method: str,
        page: str | None = None,
        gpc: bool = False,
        language: str | None = None,
        user_agent: str | None = None,
        recorded_at: datetime | None = None,
    ) -> Receipt | None:
        """The receipt, or None when it could not be built (then an ERROR line holds its
        fields). Never raises.

        ``page`` may carry a query or fragment (dropped: a query can hold personal data);
        anything but a same-site path is recorded as None, and so is a ``language`` that is
        not a BCP 47 tag. ``recorded_at`` defaults to the builder's clock.
        """
        fields: dict[str, Any] = {"consent_id": consent_id, "action": action}
        try:
            fields.update(
                granted=list(granted),
                refused=list(refused),
                revision=revision,
                policy_hash=policy_hash,
                method=method,
                page=same_site_path(page),
                gpc=gpc,
                language=_language(language),
            )
            fields["user_agent_hash"] = self._user_agent_hash(user_agent)
            fields["recorded_at"] = recorded_at if recorded_at is not None else self._clock()
            return Receipt.new(**fields)
        except Exception as error:
            _log_unbuilt(fields, error)
            return None

    def _user_agent_hash(self, user_agent: str | None) -> str | None:
        if self._key is None or not user_agent:
            return None
        return hash_user_agent(user_agent, self._key)


class ReceiptRecorder:
    """A :class:`ReceiptBuilder` and the sink its receipts go to.

    :param sink: where receipts go; default :class:`LogReceipts`.
    :param user_agent_key: the key of :func:`hash_user_agent` (the site's secret; a list of
        rotated keys: pass the current one). None: receipts carry no user-agent hash.
    :param clock: the time of ``recorded_at`` (tests inject one); default UTC now.

    Every recorder's sink is flushed when the process exits (an ``atexit`` hook, for WSGI
    servers and anything without an ASGI lifespan).
    """

    def __init__(
        self,
        sink: ReceiptSink | None = None,
        *,
        user_agent_key: str | bytes | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.sink: ReceiptSink = sink if sink is not None else LogReceipts()
        self.builder = ReceiptBuilder(user_agent_key=user_agent_key, clock=clock)
        _LIVE.add(self)

    def record(
        self,
        *,
        consent_id: str,
        action: str,
        granted: Iterable[str],
        refused: Iterable[str],
        revision: int,
        policy_hash: str,
        method: str,
        page: str | None = None,
        gpc: bool = False,
        language: str | None = None,
        user_agent: str | None = None,
    ) -> Receipt | None:
        """Build one receipt (:meth:`ReceiptBuilder.build`) and :meth:`submit` it; the receipt,
        or None when it could not be built (then an ERROR line holds its fields). Never
        raises."""
        receipt = self.builder.build(
            consent_id=consent_id,
            action=action,
            granted=granted,
            refused=refused,
            revision=revision,
            policy_hash=policy_hash,
            method=method,
            page=page,
            gpc=gpc,
            language=language,
            user_agent=user_agent,
        )
        if receipt is not None:
            self.submit(receipt)
        return receipt

    def submit(self, receipt: Receipt) -> None:
        """Hand a built receipt to the sink; never raises (a sink that breaks its contract
        leaves an ERROR line holding the receipt)."""
        try:
            self.sink.submit(receipt)
        except Exception as error:
            log_unkept(receipt, f"the sink raised {error!r}")

    def flush(self, timeout: float | None = None) -> bool:
        """The sink's :meth:`~ReceiptSink.flush`."""
        return self.sink.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        """The sink's :meth:`~ReceiptSink.close`."""
        _LIVE.discard(self)
        self.sink.close(timeout)

    async def aflush(self, timeout: float | None = None) -> bool:
        """:meth:`flush` in a worker thread, for an ASGI lifespan ``shutdown`` (the event loop
        keeps serving while the writer drains)."""
        return await asyncio.to_thread(self.sink.flush, timeout)

    async def aclose(self, timeout: float | None = None) -> None:
        """:meth:`close` in a worker thread."""
        await asyncio.to_thread(self.close, timeout)

    def __repr__(self) -> str:
        return f"ReceiptRecorder({self.sink!r})"


_LIVE: weakref.WeakSet[ReceiptRecorder] = weakref.WeakSet()


def _flush_at_exit() -> None:
    for recorder in list(_LIVE):
        try:
            recorder.flush(EXIT_TIMEOUT)
        except Exception:
            logger.exception("receipts: could not flush %r at exit", recorder)


atexit.register(_flush_at_exit)


def same_site_path(page: str | None) -> str | None:
    """The path of a same-site page reference (``/a/b?x=1#y`` gives ``/a/b``), or None for
    anything else (absolute or protocol-relative URLs, control characters, over 2,048)."""
    if not page or not isinstance(page, str):
        return None
    path = page.split("#", 1)[0].split("?", 1)[0]
    if not path.startswith("/") or path.startswith("//") or len(path) > 2048:
        return None
    if _UNSAFE_PATH.search(path):
        return None
    return path


def _language(tag: str | None) -> str | None:
    return tag if tag and isinstance(tag, str) and is_language_tag(tag) else None


def _log_unbuilt(fields: dict[str, Any], error: Exception) -> None:
    try:
        shown = json.dumps(fields, default=_listed, ensure_ascii=False)
    except Exception:
        shown = repr(fields)
    logger.error("receipt not kept (cannot build it: %s): %s", error, shown)


def _listed(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        return list(value)
    return repr(value)


def _utc_now() -> datetime:
    return datetime.now(UTC)
