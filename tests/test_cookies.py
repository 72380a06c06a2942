"""Wire level: browser name derivation, Cookie parsing, deletion headers."""

from __future__ import annotations

import pytest

from consentware.core.cookies import (
    browser_name_value,
    classification_name,
    deletion_header,
    parse_cookie_pairs,
)


@pytest.mark.parametrize(
    ("line", "name", "value"),
    [
        pytest.param("a=1", "a", "1", id="plain"),
        pytest.param("a=1; Path=/; HttpOnly", "a", "1", id="attributes-ignored"),
        pytest.param("a=", "a", "", id="empty-value"),
        pytest.param("a=b=c", "a", "b=c", id="first-equals-splits"),
        pytest.param("  a  =  1  ; Path=/", "a", "1", id="spaces-trimmed"),
        pytest.param("\ta\t=\t1\t", "a", "1", id="tabs-trimmed"),
        pytest.param("a b=1", "a b", "1", id="inner-space-kept"),
        pytest.param("\xa0a=1", "\xa0a", "1", id="only-sp-and-htab-are-trimmed"),
        pytest.param("=_ga=1", "", "_ga=1", id="nameless-value-with-equals"),
        pytest.param("=1; Path=/", "", "1", id="nameless"),
        pytest.param("_ga", "", "_ga", id="no-equals-is-nameless"),
        pytest.param("  _ga  ; Path=/", "", "_ga", id="no-equals-trimmed"),
        pytest.param("", "", "", id="empty"),
        pytest.param(";", "", "", id="only-semicolon"),
        pytest.param("a=1, _ga=2", "a", "1, _ga=2", id="comma-never-splits"),
        pytest.param(
            "a=1; Expires=Wed, 09 Jun 2021 10:18:14 GMT, _ga=2", "a", "1", id="comma-in-expires"
        ),
        pytest.param("_ga\x00x=1", "", "_ga", id="nul-truncates-before-equals"),
        pytest.param("AAA=BB\x00ZYX", "AAA", "BB", id="nul-truncates-value"),
        pytest.param("AAA=BB\rZYX", "AAA", "BB", id="cr-truncates"),
        pytest.param("AAA=BB\nSet-Cookie: x=1", "AAA", "BB", id="lf-truncates"),
        pytest.param("AAA=BB\x7fZYX", "AAA", "BB", id="del-truncates"),
        pytest.param("a=1\x1f; Path=/", "a", "1", id="unit-separator-truncates"),
        pytest.param("\x01_ga=1", "", "", id="leading-control-leaves-nothing"),
        pytest.param("a=\t1\t; Path=/", "a", "1", id="htab-is-not-a-control"),
        pytest.param('"a=1"', '"a', '1"', id="quotes-are-not-special-in-names"),
        pytest.param("春节回=x", "春节回", "x", id="non-ascii-name"),
    ],
)
def test_browser_name_value(line: str, name: str, value: str) -> None:
    assert browser_name_value(line) == (name, value)


@pytest.mark.parametrize(
    ("line", "name"),
    [
        pytest.param("_ga=GA1.2.3; Path=/", "_ga", id="named"),
        pytest.param("=_ga=1", "_ga", id="nameless-classified-by-value"),
        pytest.param("= _ga = 1 ; Path=/", "_ga", id="nameless-value-trimmed"),
        pytest.param("_ga", "_ga", id="no-equals-classified-by-value"),
        pytest.param("=", "", id="nameless-and-empty"),
        pytest.param(" _ga =1", "_ga", id="whitespace-trimmed"),
        pytest.param("_GA=1", "_GA", id="case-kept"),
        pytest.param("sessionid=1, _ga=2", "sessionid", id="comma-never-splits"),
        pytest.param("_ga\x00=1", "_ga", id="control-truncates"),
        pytest.param("sessionid\r\n_ga=1", "sessionid", id="crlf-truncates"),
        pytest.param("__Host-id=1; Secure; Path=/", "__Host-id", id="host-prefix"),
    ],
)
def test_classification_name(line: str, name: str) -> None:
    assert classification_name(line) == name


def test_underscore_ga_in_capitals_is_another_name() -> None:
    assert classification_name("_GA=1") != classification_name("_ga=1")


@pytest.mark.parametrize(
    ("header", "pairs"),
    [
        pytest.param(None, [], id="none"),
        pytest.param("", [], id="empty"),
        pytest.param("a=1", [("a", "1")], id="one"),
        pytest.param("a=1; b=2", [("a", "1"), ("b", "2")], id="two"),
        pytest.param("a=1;b=2", [("a", "1"), ("b", "2")], id="no-space"),
        pytest.param("a=1; a=2", [("a", "1"), ("a", "2")], id="duplicates-kept"),
        pytest.param('a="x y"', [("a", "x y")], id="quoted"),
        pytest.param("a=1; ; b=2", [("a", "1"), ("b", "2")], id="empty-pair"),
        pytest.param("a=1; =x; b=2", [("a", "1"), ("b", "2")], id="nameless-dropped"),
        pytest.param("a=1; bad pair; b=2", [("a", "1"), ("b", "2")], id="bad-pair-only-dropped"),
        pytest.param("_ga", [("_ga", "")], id="bare-name"),
    ],
)
def test_parse_cookie_pairs(header: str | None, pairs: list[tuple[str, str]]) -> None:
    assert sorted(parse_cookie_pairs(header)) == sorted(pairs)


def _attributes(line: str) -> tuple[str, dict[str, str]]:
    pair, *rest = line.split(";")
    attributes: dict[str, str] = {}
    for item in rest:
        key, _, value = item.strip().partition("=")
        attributes[key.lower()] = value
    return pair, attributes


@pytest.mark.parametrize(
    ("name", "domain", "path", "want"),
    [
        pytest.param("_ga", "", "/", {"path": "/"}, id="host-only"),
        pytest.param(
            "_ga",
            "example.org",
            "/shop",
            {"path": "/shop", "domain": "example.org"},
            id="domain-and-path",
        ),
        pytest.param(
            "__Host-id", "example.org", "/shop", {"path": "/", "secure": ""}, id="host-prefix"
        ),
        pytest.param("__host-id", "", "/x", {"path": "/", "secure": ""}, id="host-prefix-lower"),
        pytest.param("__HOST-id", "", "/", {"path": "/", "secure": ""}, id="host-prefix-upper"),
        pytest.param(
            "__Secure-id",
            "example.org",
            "/a",
            {"path": "/a", "domain": "example.org", "secure": ""},
            id="secure-prefix",
        ),
        pytest.param("__SECURE-id", "", "/", {"path": "/", "secure": ""}, id="secure-prefix-upper"),
        pytest.param(
            "__Http-id", "", "/", {"path": "/", "secure": "", "httponly": ""}, id="http-prefix"
        ),
        pytest.param(
            "__Host-Http-id",
            "example.org",
            "/x",
            {"path": "/", "secure": "", "httponly": ""},
            id="host-http-prefix",
        ),
        pytest.param("__Hostile", "", "/", {"path": "/"}, id="not-a-host-prefix"),
        pytest.param("_Secure-id", "", "/", {"path": "/"}, id="not-a-secure-prefix"),
    ],
)
def test_deletion_header(name: str, domain: str, path: str, want: dict[str, str]) -> None:
    line = deletion_header(name, domain=domain, path=path)
    pair, attributes = _attributes(line)
    assert pair == f"{name}="
    assert attributes.pop("max-age") == "0"
    assert attributes.pop("expires") == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert attributes == want
    assert browser_name_value(line) == (name, "")
