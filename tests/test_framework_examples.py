"""The three framework examples under their real servers, driven over HTTP with httpx.

Flask and Django under werkzeug's threaded WSGI server, FastAPI and Django under uvicorn. For
each: the session (and CSRF) cookies always arrive, ``_ga`` and ``_fbp`` only as consented,
held trackers are expired, and the consent state reaches the views and the templates.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import consentware
from consentware import ConsentCookie, Policy
from consentware.core.codec import derive_secret_key
from tests.support.cookies import set_names
from tests.support.servers import serve_asgi, serve_wsgi

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Example:
    """A running example: where it listens and what its consent cookie needs."""

    name: str
    url: str
    policy: Policy
    secret_key: Any
    necessary: frozenset[str]

    def consent(self, granted: list[str]) -> dict[str, str]:
        value = ConsentCookie(self.policy, self.secret_key).dumps(granted)
        return {"Cookie": f"cookies_preferences={value}"}


@contextlib.contextmanager
def flask_example() -> Iterator[Example]:
    from examples.flask_app import DEV_SECRET_KEY, POLICY_PATH, create_app

    with serve_wsgi(create_app()) as server:
        yield Example(
            "flask",
            server.url,
            Policy.from_toml(POLICY_PATH),
            derive_secret_key(DEV_SECRET_KEY),
            frozenset({"session"}),
        )


@contextlib.contextmanager
def fastapi_example() -> Iterator[Example]:
    from examples.fastapi_app import DEV_SECRET_KEY, POLICY, create_app

    with serve_asgi(create_app()) as server:
        yield Example("fastapi", server.url, POLICY, DEV_SECRET_KEY, frozenset({"session"}))


@contextlib.contextmanager
def django_example(kind: str) -> Iterator[Example]:
    from tests.test_django import EXAMPLE, OVERRIDES, configure_django

    configure_django()
    from django.test import override_settings

    with override_settings(**OVERRIDES):
        if kind == "wsgi":
            from django.core.wsgi import get_wsgi_application

            serving = serve_wsgi(get_wsgi_application())
        else:
            from django.core.asgi import get_asgi_application

            serving = serve_asgi(get_asgi_application())
        with serving as server:
            yield Example(
                f"django-{kind}",
                server.url,
                Policy.from_dict(EXAMPLE["CONSENTWARE"]),
                derive_secret_key(EXAMPLE["SECRET_KEY"]),
                frozenset({"sessionid", "csrftoken"}),
            )


STARTERS = {
    "flask-werkzeug": flask_example,
    "fastapi-uvicorn": fastapi_example,
    "django-werkzeug-wsgi": lambda: django_example("wsgi"),
    "django-uvicorn-asgi": lambda: django_example("asgi"),
}


@pytest.fixture(scope="module", params=list(STARTERS))
def example(request: pytest.FixtureRequest) -> Iterator[Example]:
    with STARTERS[request.param]() as running:
        yield running


def cookie_names(response: httpx.Response) -> set[str]:
    return set_names(response.headers.get_list("set-cookie"))


def banner_available() -> bool:
    return hasattr(consentware, "banner_html")


CASES = [
    pytest.param(None, set(), id="undecided"),
    pytest.param([], set(), id="rejected"),
    pytest.param(["statistical"], {"_ga"}, id="statistics"),
    pytest.param(["third_party"], {"_fbp"}, id="advertising"),
    pytest.param(["statistical", "third_party"], {"_ga", "_fbp"}, id="all"),
]


@pytest.mark.parametrize(("granted", "trackers"), CASES)
def test_cookies_arrive_only_as_consented_and_the_view_sees_the_state(
    example: Example, granted: list[str] | None, trackers: set[str]
) -> None:
    headers = example.consent(granted) if granted is not None else {}
    response = httpx.get(example.url + "/state", headers=headers)
    assert response.status_code == 200
    assert cookie_names(response) == example.necessary | trackers
    state = response.json()
    assert state["decided"] is (granted is not None)
    assert state["granted"] == sorted({"necessary", *(granted or [])})
    assert state["statistics"] is ("statistical" in (granted or []))
    assert "cookie" in response.headers["vary"].lower()


@pytest.mark.parametrize(("granted", "trackers"), CASES)
def test_the_template_sees_the_state(
    example: Example, granted: list[str] | None, trackers: set[str]
) -> None:
    if not banner_available():
        pytest.skip("the example pages render consentware.banner_html, not available yet")
    headers = example.consent(granted) if granted is not None else {}
    response = httpx.get(example.url + "/", headers=headers)
    assert response.status_code == 200
    assert cookie_names(response) == example.necessary | trackers
    html = response.text
    decided = re.search(r'id="decided">decided: (\w+)<', html)
    assert decided is not None
    assert decided[1] == str(granted is not None)
    shown = re.search(r'id="granted">granted: ([^<]*)<', html)
    assert shown is not None
    assert {n.strip() for n in shown[1].split(",")} == {"necessary", *(granted or [])}
    analytics = "granted" if "statistical" in (granted or []) else "denied"
    assert f'"analytics_storage":"{analytics}"' in html
    assert "consentware-banner" in html


def test_held_trackers_are_expired_for_a_visitor_who_refused(example: Example) -> None:
    headers = example.consent([])
    headers["Cookie"] += "; _ga=GA1.1.old; _fbp=fb.1.old"
    response = httpx.get(example.url + "/state", headers=headers)
    deletions = [line for line in response.headers.get_list("set-cookie") if "Max-Age=0" in line]
    assert {line.split("=", 1)[0].strip() for line in deletions} == {"_ga", "_fbp"}
    assert cookie_names(response) == example.necessary


def test_sec_gpc_refuses_advertising_although_granted(example: Example) -> None:
    headers = {**example.consent(["statistical", "third_party"]), "Sec-GPC": "1"}
    response = httpx.get(example.url + "/state", headers=headers)
    assert cookie_names(response) == example.necessary | {"_ga"}
    assert response.json()["granted"] == ["necessary", "statistical"]


def test_the_session_carries_over_requests(example: Example) -> None:
    with httpx.Client(base_url=example.url) as client:
        visits = [client.get("/state").json()["visits"] for _ in range(3)]
        assert visits == [1, 2, 3]
        assert example.necessary <= set(client.cookies.keys())
        assert not {"_ga", "_fbp"} & set(client.cookies.keys())


def test_consent_given_through_the_banner_form_lets_trackers_out(example: Example) -> None:
    with httpx.Client(base_url=example.url) as client:
        assert cookie_names(client.get("/state")) == example.necessary
        answer = client.post(
            "/_consent",
            data={"action": "save", "category": "statistical", "next": "/state"},
            headers={"Origin": example.url},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/state"
        assert "cookies_preferences" in cookie_names(answer)
        response = client.get("/state")
        assert response.json()["granted"] == ["necessary", "statistical"]
        assert "_ga" in client.cookies
        assert "_fbp" not in client.cookies
        withdrawn = client.post(
            "/_consent", data={"action": "reject_all"}, headers={"Origin": example.url}
        )
        assert withdrawn.status_code == 303
        assert "_ga" not in client.cookies
