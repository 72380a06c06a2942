"""The WSGI middleware, to the letter of PEP 3333, in process.

Every app here also runs inside ``wsgiref.validate.validator`` on both sides of the middleware
(``validator(ConsentMiddleware(validator(app)))``), so a response the middleware hands on that
PEP 3333 forbids fails the test. The fake server below closes every response it iterates.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from wsgiref.util import FileWrapper, setup_testing_defaults
from wsgiref.validate import validator

import pytest

from consentware import ConsentCookie, ConsentState, Exchange, Policy, Report, get_consent
from consentware.wsgi import ConsentMiddleware

# A validator warning is a PEP 3333 violation: fail on it.
pytestmark = pytest.mark.filterwarnings("error::wsgiref.validate.WSGIWarning")

POLICY = Policy.default()
CODEC = ConsentCookie(POLICY)
UNDECIDED = None
STATISTICS = f"cookies_preferences={CODEC.dumps(['statistical'])}"
EVERYTHING = f"cookies_preferences={CODEC.dumps(['statistical', 'first_party', 'third_party'])}"
REFUSED = f"cookies_preferences={CODEC.dumps([])}"

WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]
HTML = ("Content-Type", "text/html; charset=utf-8")
THREE_COOKIES = [
    HTML,
    ("Set-Cookie", "sessionid=s1; HttpOnly; Path=/"),
    ("Set-Cookie", "_ga=GA1.1.1; Path=/"),
    ("Set-Cookie", "_fbp=fb.1.1; Path=/"),
]


# -- a tiny, strict fake server -------------------------------------------------------------


class Writer:
    """The server's ``write`` callable, with an identity the tests can check."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def __call__(self, data: bytes) -> None:
        self.chunks.append(data)


@dataclass
class Served:
    status: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    exc_info: Any = None
    start_calls: int = 0
    writer: Writer = field(default_factory=Writer)
    result: Any = None

    def set_cookies(self) -> list[str]:
        return [v for n, v in self.headers if n.lower() == "set-cookie"]

    def cookie_names(self) -> list[str]:
        return [v.split("=", 1)[0] for v in self.set_cookies() if "Max-Age=0" not in v]

    def deleted(self) -> list[str]:
        return [v.split("=", 1)[0] for v in self.set_cookies() if "Max-Age=0" in v]

    def header(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n.lower() == name.lower()]


def environ_for(cookie: str | None = None, **extra: Any) -> dict[str, Any]:
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ.setdefault("QUERY_STRING", "")
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    environ.update(extra)
    return environ


def serve(app: WsgiApp, environ: dict[str, Any] | None = None) -> Served:
    """Run one request as a server does: start_response, iterate, write, close."""
    served = Served()
    headers_sent = False

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and headers_sent:
            raise exc_info[1].with_traceback(exc_info[2])
        served.start_calls += 1
        served.status, served.headers, served.exc_info = status, list(headers), exc_info
        return served.writer

    result = app(environ if environ is not None else environ_for(), start_response)
    served.result = result
    chunks: list[bytes] = []
    try:
        for chunk in result:
            headers_sent = True
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    served.body = b"".join(served.writer.chunks) + b"".join(chunks)
    return served


def validated(app: WsgiApp, **options: Any) -> WsgiApp:
    """The middleware with PEP 3333 validators on both sides."""
    return validator(ConsentMiddleware(validator(app), POLICY, **options))  # type: ignore[no-any-return]


def bare(app: WsgiApp) -> WsgiApp:
    return ConsentMiddleware(app, POLICY)


def validated_twice(app: WsgiApp) -> WsgiApp:
    return validated(app)


WRAPPINGS = [pytest.param(bare, id="bare"), pytest.param(validated_twice, id="validated")]


def setting(headers: list[tuple[str, str]], body: bytes = b"ok") -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", list(headers))
        return [body]

    return app


# -- the decisions reach the wire -----------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "passed", "deleted"),
    [
        pytest.param(UNDECIDED, ["sessionid"], ["_ga", "_fbp"], id="undecided-only-necessary"),
        pytest.param(REFUSED, ["sessionid"], ["_ga", "_fbp"], id="refused-only-necessary"),
        pytest.param(STATISTICS, ["sessionid", "_ga"], ["_fbp"], id="statistics-granted"),
        pytest.param(EVERYTHING, ["sessionid", "_ga", "_fbp"], [], id="everything-granted"),
        pytest.param(
            "_ga=old; _fbp=old; sessionid=s0",
            ["sessionid"],
            ["_ga", "_fbp"],
            id="undecided-holding-trackers",
        ),
    ],
)
def test_set_cookie_lines_pass_only_as_consented(
    cookie: str | None, passed: list[str], deleted: list[str]
) -> None:
    served = serve(validated(setting(THREE_COOKIES)), environ_for(cookie))
    assert served.status == "200 OK"
    assert served.cookie_names() == passed
    assert served.deleted() == deleted
    assert served.body == b"ok"
    assert "sessionid=s1; HttpOnly; Path=/" in served.set_cookies()


@pytest.mark.parametrize(
    ("cookie", "deleted"),
    [
        pytest.param("_ga=1; _fbp=2; sessionid=s", ["_ga", "_fbp"], id="undecided-held"),
        pytest.param(f"_ga=1; _fbp=2; sessionid=s; {STATISTICS}", ["_fbp"], id="stats-held"),
        pytest.param(f"_ga=1; _fbp=2; {EVERYTHING}", [], id="everything-held"),
        pytest.param("sessionid=s; csrftoken=t", [], id="necessary-held-kept"),
    ],
)
def test_held_cookies_not_consented_are_expired(cookie: str, deleted: list[str]) -> None:
    served = serve(validated(setting([HTML])), environ_for(cookie))
    assert served.deleted() == deleted
    for line in served.set_cookies():
        assert "Max-Age=0" in line
        assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in line
    if deleted:
        assert served.header("Vary") == ["Cookie"]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Set-Cookie", id="canonical"),
        pytest.param("set-cookie", id="lower"),
        pytest.param("SET-COOKIE", id="upper"),
        pytest.param("sEt-CoOkIe", id="mixed"),
    ],
)
def test_header_names_compare_case_insensitively(name: str) -> None:
    headers = [HTML, (name, "_ga=1"), (name, "sessionid=2")]
    served = serve(validated(setting(headers)), environ_for())
    assert served.cookie_names() == ["sessionid"]
    assert served.deleted() == ["_ga"]
    assert "sessionid=2" in served.set_cookies()
    # Written under one name, whatever the app's spelling.
    assert [n for n, _ in served.headers if n.lower() == "set-cookie"] == ["Set-Cookie"] * 2


@pytest.mark.parametrize(
    ("app_vary", "merged"),
    [
        pytest.param([], ["Cookie"], id="none"),
        pytest.param(["Accept-Encoding"], ["Accept-Encoding, Cookie"], id="kept-and-added"),
        pytest.param(["Cookie"], ["Cookie"], id="already-there"),
        pytest.param(["accept-encoding, cookie"], ["accept-encoding, cookie"], id="lowercase"),
        pytest.param(["Accept", "Origin"], ["Accept, Origin, Cookie"], id="two-headers-merged"),
        pytest.param(["*"], ["*"], id="star"),
    ],
)
def test_vary_gets_cookie_once_keeping_what_was_there(
    app_vary: list[str], merged: list[str]
) -> None:
    headers = [HTML, ("Set-Cookie", "_ga=1"), *(("Vary", v) for v in app_vary)]
    served = serve(validated(setting(headers)), environ_for())
    assert served.header("Vary") == merged


def test_untouched_response_keeps_its_headers_exactly() -> None:
    headers = [HTML, ("Set-Cookie", "sessionid=1"), ("X-Thing", "a")]
    served = serve(validated(setting(headers)), environ_for())
    assert served.headers == headers


def test_reading_the_consent_makes_the_response_vary_on_cookie() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        allowed = get_consent(environ).allows("statistical")
        start_response("200 OK", [HTML])
        return [b"yes" if allowed else b"no"]

    served = serve(validated(app), environ_for(STATISTICS))
    assert served.body == b"yes"
    assert served.header("Vary") == ["Cookie"]


# -- PEP 3333 to the letter -----------------------------------------------------------------


def test_start_response_called_late_during_the_first_iteration() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", list(THREE_COOKIES))
        yield b"first"
        yield b"second"

    served = serve(validated(app), environ_for(STATISTICS))
    assert served.cookie_names() == ["sessionid", "_ga"]
    assert served.body == b"firstsecond"


def test_exc_info_headers_are_filtered_and_exc_info_passed_on() -> None:
    error_headers = [
        ("Content-Type", "text/plain"),
        ("Set-Cookie", "_fbp=err"),
        ("Set-Cookie", "sessionid=err"),
    ]
    seen: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", list(THREE_COOKIES))
        try:
            raise KeyError("while rendering")
        except KeyError:
            info = sys.exc_info()
            seen.append(info)
            start_response("500 Internal Server Error", error_headers, info)
        return [b"error page"]

    served = serve(validated(app), environ_for())
    assert served.start_calls == 2
    assert served.status == "500 Internal Server Error"
    assert served.cookie_names() == ["sessionid"]
    assert served.deleted() == ["_fbp"]
    assert served.exc_info is not None
    assert served.exc_info[1] is seen[0][1]
    assert served.body == b"error page"


@pytest.mark.parametrize("wrapping", WRAPPINGS)
def test_exc_info_after_headers_were_sent_reraises_the_apps_error(
    wrapping: Callable[[WsgiApp], WsgiApp],
) -> None:
    error = KeyError("too late")

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [HTML])
        yield b"part"
        try:
            raise error
        except KeyError:
            start_response("500 Internal Server Error", [HTML], sys.exc_info())
        yield b"never"

    with pytest.raises(KeyError) as raised:
        serve(wrapping(app), environ_for())
    assert raised.value is error


def test_exc_info_reference_is_dropped_by_the_middleware() -> None:
    frames: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        frames.append(sys._getframe(1))
        return None

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            raise KeyError("x")
        except KeyError:
            start_response("500 Internal Server Error", [HTML], sys.exc_info())
        return [b""]

    ConsentMiddleware(app, POLICY)(environ_for(), start_response)
    caller = frames[0]
    assert caller.f_code.co_name == "consent_start_response"
    assert caller.f_locals.get("exc_info") is None


def test_the_servers_write_callable_is_returned() -> None:
    got: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        write = start_response("200 OK", list(THREE_COOKIES))
        got.append(write)
        write(b"written ")
        return [b"returned"]

    served = serve(ConsentMiddleware(app, POLICY), environ_for())
    assert got[0] is served.writer
    assert served.body == b"written returned"
    assert served.cookie_names() == ["sessionid"]
    # and through the validators, where write is wrapped but must still reach the server
    served = serve(validated(app), environ_for())
    assert served.body == b"written returned"


class ClosingBody:
    def __init__(self) -> None:
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        yield b"body"

    def close(self) -> None:
        self.closed += 1


def test_the_apps_iterable_is_returned_itself_and_closed() -> None:
    body = ClosingBody()

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", list(THREE_COOKIES))
        return body

    served = serve(ConsentMiddleware(app, POLICY), environ_for())
    assert served.result is body
    assert body.closed == 1
    assert served.body == b"body"


def test_wsgi_file_wrapper_keeps_working() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [HTML, ("Set-Cookie", "_ga=1")])
        return environ["wsgi.file_wrapper"](BytesIO(b"file content" * 100), 1024)  # type: ignore[no-any-return]

    environ = environ_for(**{"wsgi.file_wrapper": FileWrapper})
    served = serve(ConsentMiddleware(app, POLICY), environ)
    assert isinstance(served.result, FileWrapper)
    assert served.body == b"file content" * 100
    assert served.cookie_names() == []
    assert served.deleted() == ["_ga"]
    served = serve(validated(app), environ_for(**{"wsgi.file_wrapper": FileWrapper}))
    assert served.body == b"file content" * 100


# -- the consent state ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "gpc", "granted", "decided"),
    [
        pytest.param(None, None, {"necessary"}, False, id="undecided"),
        pytest.param(STATISTICS, None, {"necessary", "statistical"}, True, id="statistics"),
        pytest.param(EVERYTHING, "1", {"necessary", "statistical", "first_party"}, True, id="gpc"),
        pytest.param("cookies_preferences=garbage", None, {"necessary"}, False, id="garbage"),
    ],
)
def test_the_consent_state_is_in_the_environ(
    cookie: str | None, gpc: str | None, granted: set[str], decided: bool
) -> None:
    states: list[ConsentState] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        state = environ["consentware.consent"]
        assert get_consent(environ) is state
        states.append(state)
        start_response("200 OK", [HTML])
        return [b""]

    extra = {"HTTP_SEC_GPC": gpc} if gpc else {}
    serve(validated(app), environ_for(cookie, **extra))
    (state,) = states
    assert state.granted == granted
    assert state.decided is decided
    assert state.gpc is (gpc == "1")


def test_get_consent_without_the_middleware_raises_lookup_error() -> None:
    with pytest.raises(LookupError):
        get_consent(environ_for())


# -- on_report ------------------------------------------------------------------------------


def test_on_report_is_called_once_per_response() -> None:
    reports: list[Report] = []
    app = validated(setting(THREE_COOKIES), on_report=reports.append)
    serve(app, environ_for(f"_fbp=held; {STATISTICS}"))
    (report,) = reports
    assert report.blocked == ("_fbp",)
    assert report.expired == ("_fbp",)
    serve(app, environ_for(EVERYTHING))
    assert len(reports) == 2
    assert reports[1].blocked == ()


def test_a_raising_on_report_is_logged_and_the_response_is_intact(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def on_report(report: Report) -> None:
        raise RuntimeError("callback bug")

    with caplog.at_level(logging.ERROR, logger="consentware"):
        served = serve(validated(setting(THREE_COOKIES), on_report=on_report), environ_for())
    assert served.status == "200 OK"
    assert served.cookie_names() == ["sessionid"]
    assert served.body == b"ok"
    (record,) = [r for r in caplog.records if r.name == "consentware"]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


# -- fail closed ----------------------------------------------------------------------------


def _raise(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("consentware bug")


@pytest.mark.parametrize(
    ("target", "attribute"),
    [
        pytest.param(Exchange, "decide", id="decide"),
        pytest.param(Policy, "match", id="matcher"),
    ],
)
def test_a_failing_core_fails_closed(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    target: type,
    attribute: str,
) -> None:
    reports: list[Report] = []
    app = validated(setting(THREE_COOKIES), on_report=reports.append)
    monkeypatch.setattr(target, attribute, _raise)
    with caplog.at_level(logging.ERROR, logger="consentware"):
        served = serve(app, environ_for(f"_ga=held; {EVERYTHING}"))
    assert served.status == "200 OK"
    assert served.body == b"ok"
    assert served.set_cookies() == ["sessionid=s1; HttpOnly; Path=/"]
    errors = [r for r in caplog.records if r.name == "consentware" and r.levelno >= logging.ERROR]
    assert errors
    assert errors[0].exc_info is not None
    assert str(errors[0].exc_info[1]) == "consentware bug"
    assert [r.failed for r in reports] == [True]


def test_a_failing_consent_codec_leaves_the_visitor_undecided(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = validated(setting(THREE_COOKIES))
    monkeypatch.setattr(ConsentCookie, "loads", _raise)
    with caplog.at_level(logging.ERROR, logger="consentware"):
        served = serve(app, environ_for(EVERYTHING))
    assert served.cookie_names() == ["sessionid"]
    assert any(r.exc_info for r in caplog.records if r.name == "consentware")


class AppError(Exception):
    pass


@pytest.mark.parametrize("wrapping", WRAPPINGS)
def test_the_apps_exception_before_start_response_propagates_unchanged(
    wrapping: Callable[[WsgiApp], WsgiApp],
) -> None:
    error = AppError("app bug")

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        raise error

    with pytest.raises(AppError) as raised:
        serve(wrapping(app), environ_for())
    assert raised.value is error


@pytest.mark.parametrize("wrapping", WRAPPINGS)
def test_the_apps_exception_while_iterating_propagates_unchanged(
    wrapping: Callable[[WsgiApp], WsgiApp],
) -> None:
    error = AppError("mid-stream")
    body = ClosingBody()

    def chunks() -> Iterator[bytes]:
        yield b"a"
        raise error

    class Failing(ClosingBody):
        def __iter__(self) -> Iterator[bytes]:
            return chunks()

    body = Failing()

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [HTML])
        return body

    with pytest.raises(AppError) as raised:
        serve(wrapping(app), environ_for())
    assert raised.value is error
    assert body.closed == 1


# -- the example ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "passed"),
    [
        pytest.param(None, ["sessionid"], id="undecided"),
        pytest.param(STATISTICS, ["sessionid", "_ga"], id="statistics"),
    ],
)
def test_the_wsgi_example_sets_only_consented_cookies(
    cookie: str | None, passed: list[str]
) -> None:
    from examples import wsgi_app

    served = serve(validator(wsgi_app.app), environ_for(cookie))
    assert served.cookie_names() == passed
    served = serve(validator(ConsentMiddleware(validator(wsgi_app.site))), environ_for(cookie))
    assert served.status == "200 OK"
    assert served.cookie_names() == passed
    assert b"statistical" in served.body


def test_the_wsgi_example_command_serves_on_8001(monkeypatch: pytest.MonkeyPatch) -> None:
    import werkzeug.serving
    from examples import wsgi_app

    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *a, **k: calls.append((a, k)))
    wsgi_app.main([])
    ((args, kwargs),) = calls
    assert args == ("127.0.0.1", 8001, wsgi_app.app)
    assert kwargs == {"threaded": True}


def test_the_wsgi_example_prints_a_consent_value(capsys: pytest.CaptureFixture[str]) -> None:
    from examples import wsgi_app

    wsgi_app.main(["--consent", "statistical"])
    state = CODEC.loads(capsys.readouterr().out.strip())
    assert state.decided
    assert state.granted == {"necessary", "statistical"}
