"""The Django middleware and context processor, with Django's test clients (sync and async).

Django settings can be configured once per process: this module configures them from
``examples.django_project.settings`` only if nothing did before, and wraps every test in
``override_settings`` with those settings, so it also runs after another module configured
Django differently.
"""

from __future__ import annotations

import logging
import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import django
import pytest
from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.template import engines
from django.test import AsyncClient, Client, RequestFactory, override_settings
from examples.django_project import settings as example_settings

import consentware
import consentware.django as consentware_django
from consentware import ConsentCookie, Policy, get_consent
from consentware.core.codec import derive_secret_key
from consentware.core.exchange import Exchange
from consentware.django import ConsentMiddleware, context_processor, load_config
from tests.support.cookies import set_names

EXAMPLE: dict[str, Any] = {
    name: getattr(example_settings, name) for name in dir(example_settings) if name.isupper()
}
# Installed apps and databases cannot change per test without reloading; nothing here needs any.
OVERRIDES = {k: v for k, v in EXAMPLE.items() if k not in ("INSTALLED_APPS", "DATABASES")}
POLICY = Policy.from_dict(EXAMPLE["CONSENTWARE"])
KEY = derive_secret_key(EXAMPLE["SECRET_KEY"])


def configure_django() -> None:
    """Configure Django from the example's settings unless something already did."""
    if not settings.configured:
        settings.configure(**EXAMPLE)
    django.setup()


@pytest.fixture(autouse=True)
def example_settings_applied() -> Iterator[None]:
    configure_django()
    with override_settings(**OVERRIDES):
        yield


def consent_value(granted: list[str], key: Any = KEY, policy: Policy = POLICY) -> str:
    return ConsentCookie(policy, key).dumps(granted)


def client_with(granted: list[str] | None, cls: type[Any] = Client, **cookies: str) -> Any:
    client = cls()
    if granted is not None:
        client.cookies["cookies_preferences"] = consent_value(granted)
    for name, value in cookies.items():
        client.cookies[name] = value
    return client


def lines(response: Any) -> list[str]:
    """The Set-Cookie values Django's handlers would send for this response."""
    return [morsel.output(header="").strip() for morsel in response.cookies.values()]


def names(response: Any) -> set[str]:
    return set_names(lines(response))


CASES = [
    pytest.param(None, {"sessionid", "csrftoken"}, id="undecided"),
    pytest.param([], {"sessionid", "csrftoken"}, id="rejected"),
    pytest.param(["statistical"], {"sessionid", "csrftoken", "_ga"}, id="statistics"),
    pytest.param(["third_party"], {"sessionid", "csrftoken", "_fbp"}, id="advertising"),
    pytest.param(
        ["statistical", "third_party"], {"sessionid", "csrftoken", "_ga", "_fbp"}, id="all"
    ),
]


@pytest.mark.parametrize(("granted", "expected"), CASES)
def test_sync_chain_sessions_csrf_and_trackers(
    granted: list[str] | None, expected: set[str]
) -> None:
    response = client_with(granted).get("/state")
    assert response.status_code == 200
    assert names(response) == expected
    assert response.json()["granted"] == sorted({"necessary", *(granted or [])})
    assert "Cookie" in response["Vary"]


@pytest.mark.anyio
@pytest.mark.parametrize(("granted", "expected"), CASES)
async def test_async_chain(granted: list[str] | None, expected: set[str]) -> None:
    response = await client_with(granted, AsyncClient).get("/state")
    assert names(response) == expected
    assert response.json()["granted"] == sorted({"necessary", *(granted or [])})


@pytest.mark.anyio
async def test_async_view_under_the_async_chain() -> None:
    response = await client_with(["statistical"], AsyncClient).get("/async-state")
    assert names(response) == {"_ga"}
    assert response.json()["statistics"] is True


def test_middleware_is_sync_and_async_capable() -> None:
    async def async_view(request: Any) -> HttpResponse:
        return HttpResponse()

    assert ConsentMiddleware.sync_capable
    assert ConsentMiddleware.async_capable
    assert iscoroutinefunction(ConsentMiddleware(async_view))
    assert not iscoroutinefunction(ConsentMiddleware(lambda request: HttpResponse()))


def test_messages_cookie_of_a_later_middleware_arrives() -> None:
    response = client_with(None).get("/message")
    assert response.status_code == 302
    assert "messages" in names(response)


def run(view: Any, cookie: str = "", **extra: Any) -> tuple[Any, HttpResponse]:
    request = RequestFactory().get("/", HTTP_COOKIE=cookie, **extra)
    response = ConsentMiddleware(view)(request)
    return request, response


def test_state_reaches_the_view_as_request_consent_and_get_consent() -> None:
    seen: list[Any] = []

    def view(request: Any) -> HttpResponse:
        seen.append((request.consent, get_consent(request)))
        return HttpResponse()

    run(view, f"cookies_preferences={consent_value(['statistical'])}")
    consent, looked_up = seen[0]
    assert consent is looked_up
    assert consent.granted == {"necessary", "statistical"}


@pytest.mark.parametrize(
    ("gpc", "granted"),
    [
        pytest.param("1", {"necessary", "statistical"}, id="gpc-denies-advertising"),
        pytest.param("0", {"necessary", "statistical", "third_party"}, id="gpc-0-ignored"),
    ],
)
def test_sec_gpc(gpc: str, granted: set[str]) -> None:
    value = consent_value(["statistical", "third_party"])
    request, _ = run(lambda r: HttpResponse(), f"cookies_preferences={value}", HTTP_SEC_GPC=gpc)
    assert request.consent.granted == granted


def test_held_cookies_are_expired_with_the_cores_lines_one_per_domain() -> None:
    data = {
        **EXAMPLE["CONSENTWARE"],
        "cookies": [{"name": "_ga", "category": "statistical", "domains": ["", "example.org"]}],
    }
    with override_settings(CONSENTWARE=data):
        _, response = run(lambda r: HttpResponse(), "_ga=GA1.old; _fbp=fb.old")
    sent = lines(response)
    assert len(sent) == 2
    assert all(line.startswith("_ga=;") and "Max-Age=0" in line for line in sent)
    assert sum("Domain=example.org" in line for line in sent) == 1
    assert "Cookie" in response["Vary"]


def test_a_blocked_cookie_held_by_the_browser_is_replaced_by_its_deletion() -> None:
    def view(request: Any) -> HttpResponse:
        response = HttpResponse()
        response.set_cookie("_ga", "GA1.new")
        return response

    _, response = run(view, "_ga=GA1.old")
    (line,) = lines(response)
    assert line.startswith("_ga=;")
    assert "Max-Age=0" in line


def test_a_set_cookie_header_set_by_hand_is_decided_too() -> None:
    def view(request: Any) -> HttpResponse:
        response = HttpResponse()
        response["Set-Cookie"] = "_fbp=fb.1; Path=/"
        return response

    _, response = run(view)
    # Refused: the hand-set header is gone, and its cookie is deleted instead.
    assert not response.has_header("Set-Cookie")
    assert lines(response) == ["_fbp=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"]
    value = consent_value(["third_party"])
    _, response = run(view, f"cookies_preferences={value}")
    # Granted: it leaves as written, still a header (Django's ASGI handler encodes headers
    # as latin-1, cookies as ASCII).
    assert response["Set-Cookie"] == "_fbp=fb.1; Path=/"
    assert lines(response) == []


def test_a_middleware_outside_consentware_can_still_edit_and_set_cookies() -> None:
    def view(request: Any) -> HttpResponse:
        response = HttpResponse()
        response.set_cookie("sessionid", "s1")
        return response

    _, response = run(view, "_ga=GA1.old")
    # What an outer middleware does after consentware decided: force Secure on every kept
    # cookie, set one of its own, and replace one that is already there.
    response.cookies["sessionid"]["secure"] = True
    response.set_cookie("outer", "o1")
    response.set_cookie("sessionid", "s2", httponly=True)
    sent = lines(response)
    assert any(line.startswith("outer=o1") for line in sent)
    (session,) = [line for line in sent if line.startswith("sessionid=")]
    assert session.startswith("sessionid=s2")
    assert "HttpOnly" in session
    (deletion,) = [line for line in sent if line.startswith("_ga=")]
    assert "Max-Age=0" in deletion
    with pytest.raises(TypeError, match="set_cookie"):
        response.cookies["_ga"]["secure"] = True


def test_an_edit_of_a_kept_cookie_renders_its_line_again() -> None:
    def view(request: Any) -> HttpResponse:
        response = HttpResponse()
        response.set_cookie("sessionid", "s1")
        return response

    _, response = run(view)
    response.cookies["sessionid"]["samesite"] = "Strict"
    (line,) = lines(response)
    assert "SameSite=Strict" in line
    assert response.cookies["sessionid"]["samesite"] == "Strict"


def test_vary_is_merged_with_what_the_view_set() -> None:
    def view(request: Any) -> HttpResponse:
        response = HttpResponse()
        response["Vary"] = "Accept-Language"
        response.set_cookie("_ga", "x")
        return response

    _, response = run(view)
    assert response["Vary"] == "Accept-Language, Cookie"


def test_response_with_the_cores_lines_survives_pickling() -> None:
    _, response = run(lambda r: HttpResponse(), "_ga=GA1.old")
    before = lines(response)
    restored = pickle.loads(pickle.dumps(response))
    assert lines(restored) == before


def test_report_mode_changes_nothing_and_reports(caplog: pytest.LogCaptureFixture) -> None:
    reports: list[Any] = []
    data = {**EXAMPLE["CONSENTWARE"], "mode": "report", "on_report": reports.append}

    def view(request: Any) -> HttpResponse:
        response = HttpResponse()
        response.set_cookie("_ga", "x")
        return response

    with override_settings(CONSENTWARE=data):
        _, response = run(view, "_fbp=old")
    assert names(response) == {"_ga"}
    assert [(r.blocked, r.expired) for r in reports] == [(("_ga",), ("_fbp",))]


def test_fails_closed_when_the_core_raises(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(self: Exchange, set_cookies: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected")

    monkeypatch.setattr(Exchange, "decide", boom)
    everything = consent_value(["statistical", "third_party"])
    with caplog.at_level(logging.ERROR, logger="consentware"):
        response = Client().get("/state", HTTP_COOKIE=f"cookies_preferences={everything}")
    assert response.status_code == 200
    assert names(response) == {"sessionid", "csrftoken"}
    assert any(r.exc_info and "injected" in str(r.exc_info[1]) for r in caplog.records)


def test_drops_every_cookie_when_even_failing_closed_fails(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected twice")

    monkeypatch.setattr(Exchange, "decide", boom)
    monkeypatch.setattr(Exchange, "fail_closed", boom)
    with caplog.at_level(logging.ERROR, logger="consentware"):
        response = Client().get("/state")
    assert response.status_code == 200
    assert names(response) == set()
    assert any("Set-Cookie dropped" in r.getMessage() for r in caplog.records)


def test_view_exceptions_are_not_swallowed() -> None:
    def view(request: Any) -> HttpResponse:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        run(view)


# -- configuration -------------------------------------------------------------------------


def test_no_consentware_setting_means_the_default_policy() -> None:
    with override_settings(CONSENTWARE=None):
        config = load_config()
    assert config.policy.category_of("csrftoken") == "necessary"
    assert config.prefix == "/_consent"


@pytest.mark.parametrize(
    ("settings_overrides", "key", "decided"),
    [
        pytest.param({}, KEY, True, id="derived-from-secret-key"),
        pytest.param({}, EXAMPLE["SECRET_KEY"], False, id="raw-secret-never-signs"),
        pytest.param({}, None, False, id="unsigned-refused"),
        pytest.param(
            {"SECRET_KEY_FALLBACKS": ["old"]}, derive_secret_key("old"), True, id="fallback"
        ),
        pytest.param({"secret_key": "explicit"}, "explicit", True, id="explicit"),
        pytest.param({"secret_key": None}, None, True, id="none-means-unsigned"),
    ],
)
def test_secret_key(settings_overrides: dict[str, Any], key: Any, decided: bool) -> None:
    own = {k: v for k, v in settings_overrides.items() if k == "secret_key"}
    django_level = {k: v for k, v in settings_overrides.items() if k != "secret_key"}
    with override_settings(CONSENTWARE={**EXAMPLE["CONSENTWARE"], **own}, **django_level):
        request, _ = run(
            lambda r: HttpResponse(),
            f"cookies_preferences={consent_value(['statistical'], key)}",
        )
    assert request.consent.decided is decided


def test_policy_from_a_toml_path(tmp_path: Path) -> None:
    toml = tmp_path / "cookies.toml"
    toml.write_text('[[cookies]]\nname = "sessionid"\ncategory = "necessary"\n')
    with override_settings(CONSENTWARE={"policy": str(toml)}):
        assert load_config().policy.category_of("sessionid") == "necessary"
    with override_settings(CONSENTWARE=POLICY):
        assert load_config().policy is POLICY


def report_sink(report: Any) -> None:
    REPORTS.append(report)


REPORTS: list[Any] = []


def test_on_report_as_a_dotted_path() -> None:
    REPORTS.clear()
    data = {**EXAMPLE["CONSENTWARE"], "on_report": f"{__name__}.report_sink"}
    with override_settings(CONSENTWARE=data):
        Client().get("/state")
    assert [r.blocked for r in REPORTS] == [("_ga", "_fbp")]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(
            {"cookies": [{"name": "_ga", "category": "stats"}]},
            "cookies[0].category: unknown category",
            id="bad-schema",
        ),
        pytest.param({"colour": "red"}, "colour: unknown key", id="unknown-key"),
        pytest.param({"policy": {}, "cookies": []}, "either 'policy'", id="policy-and-schema"),
        pytest.param({"policy": 42}, "policy: expected", id="policy-of-wrong-type"),
        pytest.param({"on_report": 42}, "on_report", id="on-report-not-callable"),
        pytest.param({"inject_banner": "yes"}, "inject_banner", id="inject-banner-not-bool"),
        pytest.param([1, 2], "expected a dict", id="not-a-dict"),
    ],
)
def test_bad_configuration_is_improperly_configured(value: Any, message: str) -> None:
    with override_settings(CONSENTWARE=value), pytest.raises(ImproperlyConfigured) as caught:
        load_config()
    assert str(caught.value).startswith("settings.CONSENTWARE")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        pytest.param({"prefix": "consent/"}, "settings.CONSENTWARE.prefix:", id="bad-prefix"),
        pytest.param({"secret_key": ""}, "settings.CONSENTWARE.secret_key:", id="empty-key"),
    ],
)
def test_bad_middleware_options_are_improperly_configured(
    option: dict[str, Any], message: str
) -> None:
    with (
        override_settings(CONSENTWARE={**EXAMPLE["CONSENTWARE"], **option}),
        pytest.raises(ImproperlyConfigured, match=re.escape(message)),
    ):
        ConsentMiddleware(lambda r: HttpResponse())


def test_prefix_moves_the_consent_routes() -> None:
    with override_settings(CONSENTWARE={**EXAMPLE["CONSENTWARE"], "prefix": "/privacy"}):
        client = Client()
        assert client.get("/privacy").json()["granted"] == ["necessary"]
        assert client.get("/_consent").status_code == 404


def test_djangos_own_cookies_are_declared_necessary_and_said_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = {"categories": {}, "cookies": [{"name": "csrftoken", "category": "necessary"}]}
    with override_settings(CONSENTWARE=data), caplog.at_level(logging.INFO, "consentware"):
        middleware = ConsentMiddleware(lambda r: HttpResponse())
    said = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.INFO)
    assert "sessionid" in said
    assert "messages" in said
    assert "csrftoken" not in said  # the policy declares it already
    assert "django_language" not in said  # LocaleMiddleware is not installed
    assert middleware.policy.category_of("sessionid") == "necessary"
    assert middleware.policy.category_of("messages") == "necessary"
    assert middleware.policy.category_of("django_language") is None


def test_a_django_cookie_in_an_optional_category_is_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = {
        "categories": {"statistical": {"title": "Statistics"}},
        "cookies": [{"name": "sessionid", "category": "statistical"}],
    }
    with override_settings(CONSENTWARE=data), caplog.at_level(logging.WARNING, "consentware"):
        middleware = ConsentMiddleware(lambda r: HttpResponse())
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "'sessionid'" in warned
    assert "'statistical'" in warned
    assert middleware.policy.category_of("sessionid") == "statistical"  # the policy's word wins


# -- templates -----------------------------------------------------------------------------


def render(text: str, request: Any) -> str:
    template = engines["django"].from_string(text)
    return str(template.render({}, request))


def test_context_processor_gives_consent_and_consent_mode() -> None:
    def view(request: Any) -> HttpResponse:
        request.csp_nonce = "n0nce"
        body = render(
            "{{ consent.decided }}|{% if 'statistical' in consent.granted %}stats{% endif %}|"
            "{{ consent_mode_script }}",
            request,
        )
        return HttpResponse(body)

    _, response = run(view, f"cookies_preferences={consent_value(['statistical'])}")
    body = response.content.decode()
    assert body.startswith('True|stats|<script nonce="n0nce">')
    assert '"analytics_storage":"granted"' in body
    assert "Cookie" in response["Vary"]


def test_context_processor_without_the_middleware_is_empty() -> None:
    assert context_processor(RequestFactory().get("/")) == {}


def test_context_processor_banner_is_banner_html() -> None:
    banner_html = getattr(consentware, "banner_html", None)
    if banner_html is None:
        pytest.skip("consentware.banner_html is not available yet")

    def view(request: Any) -> HttpResponse:
        return HttpResponse(render("{{ consent_banner }}", request))

    _, response = run(lambda r: view(r))
    expected = banner_html(
        ConsentCookie(POLICY, KEY).loads(None), POLICY, prefix="/_consent", next_url="/"
    )
    assert response.content.decode() == str(expected)


def test_module_is_importable_by_its_dotted_name() -> None:
    assert consentware_django.ConsentMiddleware is ConsentMiddleware


# -- the consent routes --------------------------------------------------------------------


def form(data: dict[str, str]) -> dict[str, Any]:
    return {"data": urlencode(data), "content_type": "application/x-www-form-urlencoded"}


SAVE_STATISTICS = {"action": "save", "category": "statistical", "next": "/state"}


def test_consent_routes_are_served_before_the_view_chain() -> None:
    client = Client()
    answer = client.post("/_consent", **form(SAVE_STATISTICS), HTTP_ORIGIN="http://testserver")
    assert answer.status_code == 303
    assert answer["Location"] == "/state"
    # Neither the session nor the CSRF middleware ran: the consent route answered first.
    assert names(answer) == {"cookies_preferences"}
    # Django's test client keeps the value of the core's line and sends it back.
    response = client.get("/state")
    assert response.json()["granted"] == ["necessary", "statistical"]
    assert names(response) == {"sessionid", "csrftoken", "_ga"}


@pytest.mark.anyio
async def test_consent_routes_under_the_async_chain() -> None:
    client = AsyncClient()
    answer = await client.post(
        "/_consent", **form(SAVE_STATISTICS), HTTP_ORIGIN="http://testserver"
    )
    assert answer.status_code == 303
    assert names(answer) == {"cookies_preferences"}
    response = await client.get("/state")
    assert response.json()["granted"] == ["necessary", "statistical"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"HTTP_ORIGIN": "https://evil.example"}, id="foreign-origin"),
        pytest.param({"HTTP_SEC_FETCH_SITE": "cross-site"}, id="cross-site-fetch"),
    ],
)
def test_cross_site_consent_posts_are_refused(headers: dict[str, str]) -> None:
    answer = Client().post("/_consent", **form({"action": "accept_all"}), **headers)
    assert answer.status_code == 403
    assert names(answer) == set()


def test_consent_state_route_and_policy_page() -> None:
    client = client_with(["third_party"])
    state = client.get("/_consent").json()
    assert state["granted"] == ["necessary", "third_party"]
    page = client.get("/_consent/policy")
    assert page.status_code == 200
    assert "_fbp" in page.content.decode()


@pytest.mark.parametrize(
    ("script_name", "action"),
    [
        pytest.param("", 'action="/_consent"', id="at-the-root"),
        pytest.param("/shop", 'action="/shop/_consent"', id="under-a-mount-point"),
    ],
)
def test_policy_page_form_posts_under_the_mount_point(script_name: str, action: str) -> None:
    request = RequestFactory().get("/_consent/policy", SCRIPT_NAME=script_name)
    response = ConsentMiddleware(lambda request: HttpResponse())(request)
    assert response.status_code == 200
    assert action in response.content.decode()


def test_withdrawal_expires_the_held_trackers() -> None:
    client = client_with(["statistical", "third_party"], _ga="GA1.old", _fbp="fb.old")
    answer = client.post(
        "/_consent", **form({"action": "reject_all"}), HTTP_ORIGIN="http://testserver"
    )
    assert answer.status_code == 303
    expired = {line.split("=", 1)[0] for line in lines(answer) if "Max-Age=0" in line}
    assert expired == {"_ga", "_fbp"}


def page_view(request: Any) -> HttpResponse:
    return HttpResponse("<html><body><p>page</p></body></html>")


@pytest.mark.parametrize(
    ("granted", "injected"),
    [
        pytest.param(None, True, id="undecided-gets-the-banner"),
        pytest.param(["statistical"], False, id="decided-does-not"),
    ],
)
def test_inject_banner(granted: list[str] | None, injected: bool) -> None:
    banner_html = getattr(consentware, "banner_html", None)
    if banner_html is None:
        pytest.skip("consentware.banner_html is not available yet")
    cookie = f"cookies_preferences={consent_value(granted)}" if granted is not None else ""
    with override_settings(CONSENTWARE={**EXAMPLE["CONSENTWARE"], "inject_banner": True}):
        request, response = run(page_view, cookie)
    body = response.content.decode()
    assert ("consentware-banner" in body) is injected
    assert body.endswith("</body></html>")
    if injected:
        expected = banner_html(request.consent, POLICY, prefix="/_consent", next_url="/")
        assert "<body>" + str(expected) in body  # first in the body: a keyboard meets it first


def test_no_banner_injected_by_default() -> None:
    _, response = run(page_view)
    assert response.content == b"<html><body><p>page</p></body></html>"
