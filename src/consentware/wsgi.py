"""WSGI middleware: enforce cookie consent around any WSGI app.

It reads the visitor's consent from the ``Cookie`` header, puts a
:class:`~consentware.ConsentState` at ``environ["consentware.consent"]`` (and behind
:func:`consentware.get_consent`), and filters ``Set-Cookie`` inside the ``start_response`` it
hands the app. The body iterable and the ``write`` callable are the app's and the server's own:
nothing is buffered, ``close()`` and ``wsgi.file_wrapper`` keep working.

Example::

    from consentware import Policy
    from consentware.wsgi import ConsentMiddleware

    app = ConsentMiddleware(app, policy=Policy.from_toml("cookies.toml"), secret_key="…")
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._headers import decide_headers
from .consent import ENVIRON_KEY, POLICY_KEY, SecretKey
from .enforcer import Enforcer, ReportCallback
from .policy import Policy

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["ConsentMiddleware"]


def _identity(value: str) -> str:
    return value


class ConsentMiddleware:
    """Wrap a WSGI app so that no cookie the visitor did not consent to leaves it.

    :param app: the WSGI application to wrap.
    :param policy: the cookie policy; :meth:`Policy.default` when omitted.
    :param secret_key: signs the consent cookie; a list rotates keys (the last signs, all
        verify). ``None`` keeps the cookie unsigned so page scripts can write it.
    :param on_report: called with a :class:`~consentware.Report` for every response.
    """

    def __init__(
        self,
        app: WSGIApplication,
        policy: Policy | None = None,
        *,
        secret_key: SecretKey = None,
        on_report: ReportCallback | None = None,
    ) -> None:
        self.app = app
        self.policy = policy if policy is not None else Policy.default()
        self.enforcer = Enforcer(self.policy, secret_key)
        self.on_report = on_report

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        exchange = self.enforcer.begin(environ.get("HTTP_COOKIE"), environ.get("HTTP_SEC_GPC"))
        environ[ENVIRON_KEY] = exchange.state
        environ[POLICY_KEY] = self.policy
        on_report = self.on_report

        def consent_start_response(
            status: str,
            headers: list[tuple[str, str]],
            exc_info: OptExcInfo | None = None,
        ) -> Any:
            filtered = decide_headers(
                exchange,
                headers,
                on_report,
                set_cookie="set-cookie",
                vary="vary",
                to_text=_identity,
                from_text=_identity,
            )
            if exc_info is None:
                return start_response(status, filtered)
            try:
                return start_response(status, filtered, exc_info)
            finally:
                # PEP 3333: do not keep the traceback alive in a frame that outlives the call.
                exc_info = None

        return self.app(environ, consent_start_response)
