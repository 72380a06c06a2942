"""The core's decisions: request consent, Set-Cookie filtering, deletions, reports, Vary."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from consentware import ENVIRON_KEY, NECESSARY, ConsentCookie, Policy, Report, get_consent
from consentware.core.cookies import refusal_deletion
from consentware.core.decision import Decision, deliver_report, merge_vary
from consentware.core.enforcer import Enforcer
from consentware.core.exchange import Exchange

CONSENT = "cookies_preferences"
NOW = 1_764_400_000.0


def _enforcer(policy: Policy | None = None, secret_key: Any = None) -> Enforcer:
    return Enforcer(policy or Policy.default(), secret_key)


def _consent(granted: list[str], policy: Policy | None = None, secret_key: Any = None) -> str:
    """A consent cookie pair granting ``granted``, made now (the exchange reads the real clock)."""
    codec = ConsentCookie(policy or Policy.default(), secret_key)
    return f"{CONSENT}={codec.dumps(granted)}"


def _kept(lines: list[str], decision: Decision) -> list[str]:
    """The app's lines that leave as written."""
    return [line for line in lines if line in decision.set_cookies]


def _mask(lines: list[str], decision: Decision) -> tuple[bool, ...]:
    """For each of the app's lines, whether it leaves as written."""
    return tuple(line in decision.set_cookies for line in lines)


def _written(lines: list[str], decision: Decision) -> list[str]:
    """The lines consentware wrote itself: deletions of refused and held cookies."""
    return [line for line in decision.set_cookies if line not in lines]


def _parts(line: str) -> tuple[str, dict[str, str]]:
    pair, *rest = line.split(";")
    attributes = {}
    for item in rest:
        key, _, value = item.strip().partition("=")
        attributes[key.lower()] = value
    return pair, attributes


# -- the request side ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "gpc"),
    [
        pytest.param("1", True, id="one"),
        # RFC 9110: leading and trailing whitespace is not part of a field value.
        pytest.param(" 1 ", True, id="one-with-ows"),
        pytest.param("\t1", True, id="one-with-htab"),
        pytest.param("0", False, id="zero"),
        pytest.param("true", False, id="true"),
        # A repeated header (joined by the server) counts if any copy is exactly 1.
        pytest.param("1, 1", True, id="repeated"),
        pytest.param("1,1", True, id="repeated-no-space"),
        pytest.param("0, 1", True, id="any-copy-opts-out"),
        pytest.param("1, 0", True, id="a-later-copy-cannot-undo-it"),
        pytest.param("0, 0", False, id="no-copy-is-one"),
        pytest.param("01", False, id="leading-zero"),
        pytest.param("1.0", False, id="decimal"),
        pytest.param("", False, id="empty"),
        pytest.param(None, False, id="absent"),
    ],
)
def test_sec_gpc_counts_only_exactly_one(header: str | None, gpc: bool) -> None:
    enforcer = _enforcer()
    granted_all = _consent(["statistical", "first_party", "third_party"])
    state = enforcer.begin(granted_all, header).state
    assert state.gpc is gpc
    assert state.decided
    assert state.allows("third_party") is not gpc  # third_party has gpc_opt_out
    assert state.allows("statistical")
    assert state.allows("first_party")
    assert enforcer.begin(None, header).state.gpc is gpc


def test_gpc_blocks_the_opted_out_category_on_the_response() -> None:
    exchange = _enforcer().begin(_consent(["statistical", "third_party"]), "1")
    lines = ["_ga=1", "_fbp=2", "sessionid=3"]
    decision = exchange.decide(lines)
    assert _mask(lines, decision) == (True, False, True)
    assert _written(lines, decision) == [refusal_deletion("_fbp=2")]


def _copies(*grants: list[str] | str) -> str:
    pairs = [g if isinstance(g, str) else _consent(g) for g in grants]
    return "; ".join(["a=1", *pairs, "b=2"])


@pytest.mark.parametrize(
    ("header", "decided", "granted"),
    [
        pytest.param(_copies(["statistical"]), True, {"statistical"}, id="one-copy"),
        pytest.param(
            _copies(["statistical", "third_party"], ["statistical", "first_party"]),
            True,
            {"statistical"},
            id="intersection-of-two",
        ),
        pytest.param(
            _copies(["statistical", "third_party"], [], ["statistical"]),
            True,
            set(),
            id="one-copy-refusing-all-wins",
        ),
        pytest.param(
            _copies(["statistical"], f"{CONSENT}=garbage"),
            True,
            {"statistical"},
            id="invalid-copy-ignored",
        ),
        pytest.param(
            _copies(f"{CONSENT}=garbage", ["third_party"]),
            True,
            {"third_party"},
            id="invalid-first-copy-ignored",
        ),
        pytest.param(_copies(f"{CONSENT}=x", f"{CONSENT}="), False, set(), id="all-copies-invalid"),
        pytest.param("a=1; b=2", False, set(), id="no-consent-cookie"),
        pytest.param(f"{CONSENT}x=1", False, set(), id="similar-name-is-not-the-cookie"),
        pytest.param("", False, set(), id="empty-header"),
        pytest.param(None, False, set(), id="no-header"),
    ],
)
def test_several_consent_cookies_give_the_least_consent(
    header: str | None, decided: bool, granted: set[str]
) -> None:
    state = _enforcer().begin(header, None).state
    assert state.decided is decided
    assert state.granted == granted | {NECESSARY}


def test_copies_from_split_cookie_headers_joined() -> None:
    # Under HTTP/2 each cookie may come in its own header; the adapter joins them with "; ".
    headers = [_consent(["statistical", "third_party"]), "x=1", _consent(["third_party"])]
    state = _enforcer().begin("; ".join(headers), None).state
    assert state.granted == {NECESSARY, "third_party"}


def test_pending_of_several_copies_is_their_union() -> None:
    old = Policy.from_dict({"categories": {"statistical": {}}})
    new = Policy.from_dict({"categories": {"statistical": {}, "marketing": {}}})
    header = f"{_consent(['statistical'], old)}; {_consent(['statistical', 'marketing'], new)}"
    state = _enforcer(new).begin(header, None).state
    assert state.granted == {NECESSARY, "statistical"}
    assert state.pending == ("marketing",)


def test_signed_enforcer_ignores_unsigned_and_wrong_key_copies() -> None:
    enforcer = _enforcer(secret_key="k")
    signed = _consent(["statistical"], secret_key="k")
    unsigned = _consent(["statistical", "third_party"])
    wrong = _consent(["statistical", "third_party"], secret_key="other")
    assert not enforcer.begin(unsigned, None).state.decided
    assert not enforcer.begin(wrong, None).state.decided
    state = enforcer.begin(f"{unsigned}; {signed}; {wrong}", None).state
    assert state.decided
    assert state.granted == {NECESSARY, "statistical"}


def test_read_state_is_pure_with_an_explicit_clock() -> None:
    enforcer = _enforcer()
    value = ConsentCookie(Policy.default()).dumps(["statistical"], now=NOW)
    state = enforcer.read_state(f"{CONSENT}={value}", None, now=NOW)
    assert state.decided
    assert not enforcer.read_state(f"{CONSENT}={value}", None, now=NOW + 200 * 86400).decided


# -- the response side: which lines pass -------------------------------------------------------

UNDECIDED_LINES = [
    pytest.param("sessionid=abc; HttpOnly; Path=/", True, id="necessary"),
    pytest.param("csrftoken=x; SameSite=Lax", True, id="necessary-csrf"),
    # Only the consent route may write the visitor's choice.
    pytest.param(f"{CONSENT}=v; Path=/", False, id="the-app-may-not-write-the-consent-cookie"),
    pytest.param("_ga=GA1.2.3; Path=/", False, id="statistical"),
    pytest.param("_ga_ABC=GS1; Path=/", False, id="statistical-prefix"),
    pytest.param("_fbp=fb.1; Path=/", False, id="third-party"),
    pytest.param("tracker=1", False, id="unknown-blocked"),
    pytest.param("=_ga=1", False, id="nameless-classified-by-value"),
    pytest.param("=sessionid=1", True, id="nameless-necessary-by-value"),
    pytest.param("_ga", False, id="no-equals-classified-by-value"),
    pytest.param("  _ga  =1", False, id="whitespace-trimmed"),
    pytest.param("\t_ga=1", False, id="htab-trimmed"),
    pytest.param("_ga\x00x=1", False, id="control-truncates-to-_ga"),
    pytest.param("sessionid=1, _ga=2", True, id="comma-never-splits-necessary-first"),
    pytest.param("_ga=1, sessionid=2", False, id="comma-never-splits-tracker-first"),
    pytest.param("_GA=1", False, id="_GA-is-not-_ga-and-unknown"),
    pytest.param("SessionID=1", False, id="necessary-names-are-case-sensitive"),
    pytest.param("_ga=; Max-Age=0; Path=/", False, id="the-apps-own-deletion-is-rewritten"),
    pytest.param(
        "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", False, id="the-apps-own-expiry-too"
    ),
    pytest.param("_ga=1; Max-Age=60", False, id="a-positive-max-age-is-no-deletion"),
    pytest.param("_ga=1\x00; Max-Age=0", False, id="a-deletion-after-a-control-is-none"),
    pytest.param("", False, id="empty-line"),
]


@pytest.mark.parametrize(("line", "passes"), UNDECIDED_LINES)
def test_undecided_visitor(line: str, passes: bool) -> None:
    decision = _enforcer().begin(None, None).decide([line])
    assert _mask([line], decision) == (passes,)
    assert decision.report.blocked == (() if passes else (decision.report.blocked[0],))
    if not passes:
        # Never forwarded: replaced by consentware's deletion of it, or dropped (the consent
        # cookie: deleting it would erase the visitor's real choice).
        replacement = None if line.startswith(CONSENT) else refusal_deletion(line)
        assert list(decision.set_cookies) == ([] if replacement is None else [replacement])


@pytest.mark.parametrize(
    ("granted", "expected"),
    [
        pytest.param([], (True, False, False, False), id="nothing"),
        pytest.param(["statistical"], (True, True, False, False), id="statistical"),
        pytest.param(["third_party"], (True, False, True, False), id="third-party"),
        pytest.param(
            ["statistical", "first_party", "third_party"], (True, True, True, False), id="all"
        ),
    ],
)
def test_a_line_passes_only_if_its_category_is_granted(
    granted: list[str], expected: tuple[bool, ...]
) -> None:
    lines = ["sessionid=1", "_ga=2", "_fbp=3", "unknown=4"]
    decision = _enforcer().begin(_consent(granted), None).decide(lines)
    assert _mask(lines, decision) == expected
    assert decision.report.unknown == ("unknown",)


def test_necessary_lines_pass_byte_identical_whatever_else_is_wrong() -> None:
    lines = [
        "sessionid=" + "x" * 5000 + "; Path=/; Domain=example.org; Secure; HttpOnly",
        "csrftoken=a b c; SameSite=None; Weird=\u00e9; ;;",
        "_ga=1",
        "  sessionid =  spaced ; path=/x",
        'csrftoken="quoted"; Expires=not a date; Max-Age=oops',
        "sessionid=\u6625\u8282; Partitioned",
        "garbage without equals",
    ]
    decision = _enforcer().begin("_ga=1; junk", None).decide(lines)
    kept = _kept(lines, decision)
    assert kept == [lines[0], lines[1], lines[3], lines[4], lines[5]]
    for original, out in zip([lines[0], lines[1], lines[3], lines[4], lines[5]], kept, strict=True):
        assert out.encode("utf-8") == original.encode("utf-8")


def test_unknown_cookies_allow_lets_unknown_names_pass_but_reports_them() -> None:
    policy = Policy.from_dict({**_default_source(), "unknown_cookies": "allow"})
    lines = ["tracker=1", "_ga=1", "_GA=1"]
    decision = _enforcer(policy).begin(None, None).decide(lines)
    assert _mask(lines, decision) == (True, False, True)
    assert decision.report.unknown == ("tracker", "_GA")
    assert decision.report.blocked == ("_ga",)


def _default_source() -> dict[str, Any]:
    return dict(Policy.default().source)


def test_report_mode_changes_nothing_but_reports_everything() -> None:
    source = {**_default_source(), "mode": "report"}
    enforcer = _enforcer(Policy.from_dict(source))
    lines = ["sessionid=1", "_ga=2", "tracker=3"]
    decision = enforcer.begin("_fbp=1; held=2", None).decide(lines)
    assert decision.set_cookies == tuple(lines)
    assert not decision.changed
    assert decision.vary is False
    assert decision.report.mode == "report"
    assert decision.report.blocked == ("_ga", "tracker")
    assert decision.report.expired == ("_fbp",)
    assert decision.report.unknown == ("tracker", "held")


def test_report_mode_still_owes_vary_when_the_state_was_read() -> None:
    enforcer = _enforcer(Policy.from_dict({**_default_source(), "mode": "report"}))
    exchange = enforcer.begin(None, None)
    assert not exchange.state.allows("statistical")
    decision = exchange.decide(["_ga=1"])
    assert decision.set_cookies == ("_ga=1",)
    assert decision.vary is True


# -- deletions -----------------------------------------------------------------------------

DELETION_POLICY: dict[str, Any] = {
    "categories": {"statistical": {}, "ads": {}},
    "cookies": [
        {"name": "sessionid", "category": "necessary"},
        {"name": "_ga", "category": "statistical"},
        {"name": "_ga_*", "category": "statistical", "domains": ["", "example.org"]},
        {"name": "ads", "category": "ads", "domains": ["shop.example.org"], "path": "/shop"},
        {"name": "__Host-ads", "category": "ads", "domains": ["", "example.org"], "path": "/x"},
        {"name": "__host-ads2", "category": "ads"},
        {"name": "__Secure-ads", "category": "ads", "domains": ["example.org"], "path": "/y"},
        {"name": "__SECURE-ads2", "category": "ads"},
    ],
}


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        pytest.param("_ga", [("", "/", False)], id="host-only-default"),
        pytest.param("_ga_X1", [("", "/", False), ("example.org", "/", False)], id="two-domains"),
        pytest.param("ads", [("shop.example.org", "/shop", False)], id="domain-and-path"),
        pytest.param("__Host-ads", [("", "/", True)], id="host-prefix-once-no-domain"),
        pytest.param("__host-ads2", [("", "/", True)], id="host-prefix-case-insensitive"),
        pytest.param("__Secure-ads", [("example.org", "/y", True)], id="secure-prefix"),
        pytest.param("__SECURE-ads2", [("", "/", True)], id="secure-prefix-case-insensitive"),
    ],
)
def test_deletion_headers_one_per_declared_place(
    held: str, expected: list[tuple[str, str, bool]]
) -> None:
    decision = _enforcer(Policy.from_dict(DELETION_POLICY)).begin(f"{held}=1", None).decide([])
    assert decision.report.expired == (held,)
    places = []
    for line in decision.set_cookies:
        pair, attributes = _parts(line)
        assert pair == f"{held}="
        assert attributes["max-age"] == "0"
        assert attributes["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
        places.append((attributes.get("domain", ""), attributes["path"], "secure" in attributes))
    assert places == expected
    assert decision.vary is True


def test_no_deletion_for_necessary_consent_or_granted_cookies() -> None:
    enforcer = _enforcer()
    header = f"sessionid=1; csrftoken=2; {CONSENT}=garbage; _ga=3"
    decision = enforcer.begin(header, None).decide([])
    assert decision.report.expired == ("_ga",)
    assert [_parts(line)[0] for line in decision.set_cookies] == ["_ga="]
    granted = enforcer.begin(f"{_consent(['statistical'])}; _ga=3; sessionid=1", None)
    decision = granted.decide([])
    assert decision.set_cookies == ()
    assert decision.report.expired == ()


def test_partial_consent_expires_only_the_refused_categories() -> None:
    header = f"{_consent(['statistical'])}; _ga=1; _fbp=2; _gcl_au=3; sessionid=4"
    decision = _enforcer().begin(header, None).decide([])
    assert decision.report.expired == ("_fbp", "_gcl_au")
    assert len(decision.set_cookies) == 2


def test_duplicate_held_cookies_are_expired_once() -> None:
    decision = _enforcer().begin("_ga=1; _ga=2; _ga=3", None).decide([])
    assert decision.report.expired == ("_ga",)
    assert len(decision.set_cookies) == 1


def test_held_unknown_cookies_are_reported_not_expired_by_default() -> None:
    decision = _enforcer().begin("AWSALB=lb1; _ga=1", None).decide([])
    assert decision.report.unknown == ("AWSALB",)
    assert decision.report.expired == ("_ga",)
    assert all(not line.startswith("AWSALB=") for line in decision.set_cookies)


def test_held_unknown_cookies_are_expired_with_expire_unknown() -> None:
    policy = Policy.from_dict({**_default_source(), "expire_unknown": True})
    decision = _enforcer(policy).begin("AWSALB=lb1; sessionid=2", None).decide([])
    assert decision.report.unknown == ("AWSALB",)
    assert decision.report.expired == ("AWSALB",)
    pair, attributes = _parts(decision.set_cookies[0])
    assert pair == "AWSALB="
    assert attributes["path"] == "/"
    assert "domain" not in attributes


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("_ga_\u00e9", id="non-ascii"),
        pytest.param("_ga_a\\b", id="backslash"),
        pytest.param("_ga_a,b", id="comma"),
    ],
)
def test_held_names_unsafe_to_write_back_are_not_expired(name: str) -> None:
    assert Policy.default().category_of(name) == "statistical"  # refused, yet not written back
    decision = _enforcer().begin(f"{name}=1", None).decide([])
    assert decision.set_cookies == ()
    assert decision.report.expired == ()


def test_a_blocked_line_and_the_held_cookie_of_the_same_name() -> None:
    decision = _enforcer().begin("_ga=old", None).decide(["_ga=new"])
    assert decision.report.blocked == ("_ga",)
    assert decision.report.expired == ("_ga",)
    # The line's own deletion (the browser's default path), then the held cookie's (Path=/).
    assert decision.set_cookies == (
        "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0",
        "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/",
    )


def test_the_apps_own_deletion_becomes_one_deletion() -> None:
    lines = ["_ga=; Max-Age=0; Path=/"]
    decision = _enforcer().begin("_ga=old", None).decide(lines)
    assert decision.set_cookies == (
        "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/",
    )
    assert decision.report.blocked == ("_ga",)


# -- the unknown-name warning --------------------------------------------------------------


def test_one_warning_per_unknown_name_per_enforcer(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="consentware")
    enforcer = _enforcer()
    for _ in range(3):
        enforcer.begin("held_x=1", None).decide(["tracker=1", "tracker=2", "other=3"])
    warnings = [r for r in caplog.records if r.name == "consentware"]
    assert all(r.levelno == logging.WARNING for r in warnings)
    messages = sorted(r.getMessage() for r in warnings)
    assert len(messages) == 3
    assert any("'tracker'" in m for m in messages)
    assert any("'other'" in m for m in messages)
    assert any("'held_x'" in m for m in messages)


def test_declared_names_are_not_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="consentware")
    _enforcer().begin("_ga=1; sessionid=2", None).decide(["_ga=1", "sessionid=2"])
    assert [r for r in caplog.records if r.name == "consentware"] == []


# -- Vary ------------------------------------------------------------------------------------


def test_vary_not_owed_when_nothing_changed_and_nothing_was_read() -> None:
    decision = _enforcer().begin("sessionid=1", None).decide(["sessionid=2"])
    assert decision.vary is False
    assert not decision.changed


def test_vary_owed_when_the_app_read_the_state() -> None:
    for read in (
        lambda s: s.allows("statistical"),
        lambda s: s.granted,
        lambda s: s.decided,
    ):
        exchange = _enforcer().begin(None, None)
        assert not exchange.state_was_read
        read(exchange.state)
        assert exchange.state_was_read
        decision = exchange.decide(["sessionid=1"])
        assert decision.vary is True
        assert decision.set_cookies == ("sessionid=1",)


def test_vary_owed_when_the_app_read_the_state_through_get_consent() -> None:
    exchange = _enforcer().begin(None, None)
    environ = {ENVIRON_KEY: exchange.state}
    assert get_consent(environ).gpc is False
    assert exchange.decide([]).vary is True


def test_reading_gpc_or_pending_alone_does_not_mark_the_state() -> None:
    exchange = _enforcer().begin(None, None)
    assert exchange.state.gpc is False
    assert exchange.state.pending
    assert exchange.decide([]).vary is False


def test_vary_owed_when_a_line_was_removed() -> None:
    decision = _enforcer().begin(None, None).decide(["_ga=1"])
    assert decision.vary is True


def test_vary_owed_when_a_line_was_added() -> None:
    decision = _enforcer().begin("_ga=1", None).decide([])
    assert decision.set_cookies
    assert decision.vary is True


@pytest.mark.parametrize(
    ("granted", "line"),
    [
        pytest.param(["statistical"], "_ga=1", id="kept-because-granted"),
        pytest.param([], "_ga=1", id="refused"),
        pytest.param(["statistical"], "_fbp=1", id="refused-though-some-granted"),
    ],
)
def test_vary_owed_whenever_a_lines_fate_depends_on_consent(granted: list[str], line: str) -> None:
    # A shared cache keyed by URL would otherwise replay a kept tracker to visitors who refused.
    decision = _enforcer().begin(_consent(granted), None).decide([line])
    assert decision.vary is True


def test_vary_not_owed_for_necessary_lines_alone() -> None:
    decision = _enforcer().begin(_consent(["statistical"]), None).decide(["sessionid=1"])
    assert decision.vary is False


def test_one_exchanges_reading_does_not_leak_into_another() -> None:
    enforcer = _enforcer()
    first = enforcer.begin(None, None)
    second = enforcer.begin(None, None)
    first.state.allows("statistical")
    assert first.decide([]).vary is True
    assert second.decide([]).vary is False


@pytest.mark.parametrize(
    ("existing", "merged"),
    [
        pytest.param([], "Cookie", id="none"),
        pytest.param([""], "Cookie", id="empty"),
        pytest.param(["Accept-Encoding"], "Accept-Encoding, Cookie", id="keeps-existing"),
        pytest.param(["Cookie"], "Cookie", id="already-there"),
        pytest.param(["cookie"], "cookie", id="already-there-lowercase"),
        pytest.param(["Accept-Encoding, Cookie"], "Accept-Encoding, Cookie", id="already-in-list"),
        pytest.param(
            ["Accept-Encoding", "Origin"], "Accept-Encoding, Origin, Cookie", id="several-headers"
        ),
        pytest.param(["Origin, origin", "ORIGIN"], "Origin, Cookie", id="duplicates-once"),
        pytest.param([" Accept ,  , Origin "], "Accept, Origin, Cookie", id="spaces-and-blanks"),
        pytest.param(["*"], "*", id="star-stays-star"),
        pytest.param(["Origin", "*"], "*", id="star-wins"),
    ],
)
def test_merge_vary(existing: list[str], merged: str) -> None:
    assert merge_vary(existing) == merged


# -- fail closed -----------------------------------------------------------------------------


def test_exchange_fails_closed_when_reading_the_consent_raises(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: Enforcer, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("codec exploded")

    monkeypatch.setattr(Enforcer, "read_state", broken)
    caplog.set_level(logging.ERROR, logger="consentware")
    enforcer = _enforcer()
    granted_all = _consent(["statistical", "first_party", "third_party"])
    exchange = enforcer.begin(f"{granted_all}; _ga=1", "1")
    assert exchange.failed
    assert not exchange.state.decided
    assert exchange.state.granted == {NECESSARY}
    assert exchange.state.gpc is True
    errors = [r for r in caplog.records if r.name == "consentware" and r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert "codec exploded" in caplog.text
    decision = exchange.decide(["sessionid=1", "_ga=2"])
    assert _mask(["sessionid=1", "_ga=2"], decision) == (True, False)
    assert decision.report.failed is True


def test_exchange_fail_closed_decision_passes_only_necessary() -> None:
    policy = Policy.from_dict(
        {
            "categories": {"statistical": {}},
            "cookies": [
                {"name": "sessionid", "category": "necessary"},
                {"name": "csrf_*", "category": "necessary"},
                {"name": "re:auth[0-9]", "category": "necessary"},
                {"name": "_ga", "category": "statistical"},
            ],
        }
    )
    exchange = _enforcer(policy).begin(_consent(["statistical"], policy), None)
    lines = ["sessionid=1", "csrf_x=2", "auth7=3", f"{CONSENT}=v", "_ga=4", "other=5", "=_ga=6"]
    decision = exchange.fail_closed(lines, RuntimeError("boom"))
    assert decision.set_cookies == tuple(lines[:4])
    assert decision.vary is True
    assert decision.report.failed is True
    assert decision.report.blocked == ("_ga", "other", "_ga")


def test_deliver_report_swallows_and_logs_a_raising_callback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def callback(report: Report) -> None:
        raise ValueError("callback broke")

    deliver_report(callback, Report(blocked=("_ga",)))
    assert "callback broke" in caplog.text
    seen: list[Report] = []
    deliver_report(seen.append, Report(blocked=("_ga",)))
    assert seen == [Report(blocked=("_ga",))]
    deliver_report(None, Report())


def test_the_report_carries_the_state_and_mode() -> None:
    exchange = _enforcer().begin(_consent(["statistical"]), None)
    report = exchange.decide(["_ga=1", "_fbp=2"]).report
    assert report.state == exchange.state
    assert report.mode == "enforce"
    assert report.failed is False
    assert report.blocked == ("_fbp",)
    assert isinstance(report.blocked, tuple)
    assert isinstance(report.expired, tuple)
    assert isinstance(report.unknown, tuple)


def test_exchange_is_an_exchange() -> None:
    assert isinstance(_enforcer().begin(None, None), Exchange)


@pytest.mark.parametrize(
    ("header", "gpc"),
    [
        pytest.param("1", True, id="one"),
        pytest.param(" 1 ", True, id="one-with-ows"),
        pytest.param("1, 1", True, id="repeated"),
        pytest.param(None, False, id="absent"),
    ],
)
def test_a_failed_read_keeps_the_same_reading_of_sec_gpc(
    monkeypatch: pytest.MonkeyPatch, header: str | None, gpc: bool
) -> None:
    def broken(self: Enforcer, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("codec exploded")

    assert _enforcer().begin(None, header).state.gpc is gpc
    monkeypatch.setattr(Enforcer, "read_state", broken)
    exchange = _enforcer().begin(None, header)
    assert exchange.failed
    assert exchange.state.gpc is gpc
