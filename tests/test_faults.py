"""Injected faults: consentware breaking inside, through both middlewares.

The codec, the matcher, the report callback, the logging handler and the consent route are made
to raise. Every time the response still goes out, only necessary cookies pass (and never the
app's consented ones when the consent itself could not be read), and the failure is logged
exactly once, with its traceback, on logger ``consentware``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from consentware import ConsentCookie, Policy
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.core.exchange import Exchange
from consentware.web.endpoint import ConsentEndpoint
from consentware.wsgi import ConsentMiddleware as WsgiMiddleware
from tests.fuzz import drivers
from tests.fuzz.strategies import FUZZ_POLICY_DATA

KEY = "fault-key"
NAME = "cookies_preferences"
ALL = ("statistical", "first_party", "third_party")
NECESSARY_LINES = ["sessionid=s; Path=/; HttpOnly", "__Host-sid=h; Secure; Path=/"]
# Each where the policy says it lives, so a withdrawal could delete it.
OPTIONAL_LINES = ["_ga=GA1.2.3; Path=/", "prefs=dark; Path=/app", "_fbp=fb.1"]
LINES = [*NECESSARY_LINES, *OPTIONAL_LINES]


class InjectedFault(RuntimeError):  # noqa: N818 - a fault, not an error of the code
    """The error every fault raises, so the log can be checked for it."""


def boom(*args: Any, **kwargs: Any) -> Any:
    raise InjectedFault("injected")


def fresh_policy() -> Policy:
    # A new policy per test: the matcher's cache must not answer for the broken matcher.
    return Policy.from_dict(FUZZ_POLICY_DATA)


def granted_everything(policy: Policy) -> list[drivers.Header]:
    value = ConsentCookie(policy, KEY).dumps(ALL)
    return [("Cookie", f"{NAME}={value}; _ga=old")]


def build(adapter: str, policy: Policy, lines: list[str], **options: Any) -> Any:
    if adapter == "wsgi":
        return WsgiMiddleware(drivers.wsgi_cookie_app(lines), policy, secret_key=KEY, **options)
    return AsgiMiddleware(drivers.asgi_cookie_app(lines), policy, secret_key=KEY, **options)


def call(adapter: str, app: Any, **request: Any) -> drivers.Result:
    caller = drivers.call_wsgi if adapter == "wsgi" else drivers.call_asgi
    return caller(app, **request)


def left(result: drivers.Result) -> list[str]:
    """The app's own Set-Cookie lines that left (deletions added by consentware excluded)."""
    return [line for line in result.set_cookies if line in LINES]


def one_error(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    errors = [r for r in caplog.records if r.name == "consentware" and r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    [record] = errors
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], InjectedFault)
    return record


@pytest.fixture
def errors_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="consentware")
    return caplog


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_control_without_faults(adapter: str, errors_logged: pytest.LogCaptureFixture) -> None:
    """What the faults below take away: a visitor who granted everything gets every cookie."""
    policy = fresh_policy()
    result = call(adapter, build(adapter, policy, LINES), headers=granted_everything(policy))
    assert left(result) == LINES
    assert not [r for r in errors_logged.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_codec_fault(
    adapter: str, errors_logged: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ConsentCookie, "loads", boom)
    policy = fresh_policy()
    result = call(adapter, build(adapter, policy, LINES), headers=granted_everything(policy))
    assert result.status == 200
    assert result.body == b"app body"
    assert left(result) == NECESSARY_LINES
    one_error(errors_logged)


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_matcher_fault(
    adapter: str, errors_logged: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = fresh_policy()
    app = build(adapter, policy, LINES)
    monkeypatch.setattr(Policy, "match", boom)
    result = call(adapter, app, headers=granted_everything(policy))
    assert result.status == 200
    assert result.body == b"app body"
    assert left(result) == NECESSARY_LINES
    one_error(errors_logged)


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_decide_fault(
    adapter: str, errors_logged: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anything else breaking in the core's decision: the same fail-closed answer."""
    monkeypatch.setattr(Exchange, "decide", boom)
    policy = fresh_policy()
    result = call(adapter, build(adapter, policy, LINES), headers=granted_everything(policy))
    assert result.status == 200
    assert left(result) == NECESSARY_LINES
    assert "cookie" in ",".join(result.values("vary")).lower()
    one_error(errors_logged)


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize("granted", [True, False], ids=["granted", "undecided"])
def test_report_callback_fault(
    adapter: str, granted: bool, errors_logged: pytest.LogCaptureFixture
) -> None:
    """A raising on_report is logged; the decision it was told about stands."""
    policy = fresh_policy()
    app = build(adapter, policy, LINES, on_report=boom)
    headers = granted_everything(policy) if granted else [("Cookie", "_ga=old")]
    result = call(adapter, app, headers=headers)
    assert result.status == 200
    assert result.body == b"app body"
    assert left(result) == (LINES if granted else NECESSARY_LINES)
    one_error(errors_logged)


class RaisingHandler(logging.Handler):
    """A handler whose emit raises, instead of calling handleError as the stdlib ones do."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.calls += 1
        raise InjectedFault("the logging handler is broken")


@pytest.fixture
def broken_handler() -> Iterator[RaisingHandler]:
    handler = RaisingHandler()
    logger = logging.getLogger("consentware")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def handler_failures(text: str) -> int:
    """How many times the handler's own error was reported on stderr (with its traceback)."""
    return text.count("InjectedFault: the logging handler is broken")


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize("raise_exceptions", [True, False], ids=["raiseExceptions", "production"])
def test_logging_handler_fault_with_a_codec_fault(
    adapter: str,
    raise_exceptions: bool,
    broken_handler: RaisingHandler,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The error log itself fails: the response still goes out, fail-closed. The handler's
    failure is reported once on stderr, as logging.Handler.handleError does, unless
    logging.raiseExceptions is off (as production code sets it)."""
    monkeypatch.setattr(logging, "raiseExceptions", raise_exceptions)
    monkeypatch.setattr(ConsentCookie, "loads", boom)
    policy = fresh_policy()
    result = call(adapter, build(adapter, policy, LINES), headers=granted_everything(policy))
    assert result.status == 200
    assert left(result) == NECESSARY_LINES
    assert broken_handler.calls == 1
    err = capsys.readouterr().err
    assert handler_failures(err) == (1 if raise_exceptions else 0)
    if raise_exceptions:
        assert "Traceback (most recent call last)" in err


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_logging_handler_fault_on_a_warning(
    adapter: str, broken_handler: RaisingHandler, capsys: pytest.CaptureFixture[str]
) -> None:
    """The unknown-cookie warning cannot be logged: the decision is the one without the fault."""
    policy = fresh_policy()
    lines = [*LINES, "mystery=1"]
    result = call(adapter, build(adapter, policy, lines), headers=granted_everything(policy))
    assert result.status == 200
    assert left(result) == LINES
    assert "mystery=1" not in result.set_cookies
    assert broken_handler.calls == 1
    assert handler_failures(capsys.readouterr().err) == 1


# -- the consent route ---------------------------------------------------------------------


def post_consent(adapter: str, app: Any, cookie: list[drivers.Header]) -> drivers.Result:
    return call(
        adapter,
        app,
        method="POST",
        path="/_consent",
        headers=[
            *cookie,
            ("Host", "127.0.0.1"),
            ("Origin", "http://127.0.0.1"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body=b"action=accept_all&next=/shop",
    )


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_consent_route_control(adapter: str, errors_logged: pytest.LogCaptureFixture) -> None:
    policy = fresh_policy()
    result = post_consent(adapter, build(adapter, policy, LINES), granted_everything(policy))
    assert result.status == 303
    assert any(line.startswith(f"{NAME}=") for line in result.set_cookies)


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize(
    "target",
    [
        pytest.param((ConsentEndpoint, "_respond"), id="route"),
        pytest.param((ConsentCookie, "dumps"), id="codec-while-recording"),
    ],
)
def test_consent_route_fault(
    adapter: str,
    target: tuple[type, str],
    errors_logged: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The route breaks: a plain 5xx answer, no consent cookie, no deletion, one error."""
    policy = fresh_policy()
    cookie = granted_everything(policy)
    monkeypatch.setattr(*target, boom)
    result = post_consent(adapter, build(adapter, policy, LINES), cookie)
    assert 500 <= result.status < 600
    assert result.set_cookies == []
    assert result.body
    one_error(errors_logged)


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_consent_route_fault_with_a_broken_handler(
    adapter: str,
    broken_handler: RaisingHandler,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(logging, "raiseExceptions", True)
    monkeypatch.setattr(ConsentEndpoint, "_respond", boom)
    policy = fresh_policy()
    result = post_consent(adapter, build(adapter, policy, LINES), granted_everything(policy))
    assert 500 <= result.status < 600
    assert result.set_cookies == []
    assert handler_failures(capsys.readouterr().err) == 1


# -- the Django helper ---------------------------------------------------------------------


@pytest.fixture
def django_example() -> Iterator[Any]:
    """The Django example project's settings, as tests/test_django.py applies them."""
    pytest.importorskip("django")
    from django.test import override_settings

    from tests import test_django

    test_django.configure_django()
    with override_settings(**test_django.OVERRIDES):
        yield test_django


@pytest.mark.parametrize("fault", ["decide", "decide-and-fail-closed"])
def test_django_fault_with_a_broken_handler(
    fault: str,
    django_example: Any,
    broken_handler: RaisingHandler,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The Django middleware fails closed too when the error log itself fails."""
    from django.test import Client

    monkeypatch.setattr(logging, "raiseExceptions", True)
    everything = django_example.consent_value(["statistical", "third_party"])
    monkeypatch.setattr(Exchange, "decide", boom)
    if fault == "decide-and-fail-closed":
        monkeypatch.setattr(Exchange, "fail_closed", boom)
    response = Client().get("/state", HTTP_COOKIE=f"{NAME}={everything}")
    assert response.status_code == 200
    expected = {"sessionid", "csrftoken"} if fault == "decide" else set()
    assert django_example.names(response) == expected
    assert handler_failures(capsys.readouterr().err) >= 1
