"""The ``receipts`` option in Flask (``CONSENTWARE_RECEIPTS``), Starlette (``install`` and
``add_middleware``) and Django (``settings.CONSENTWARE["receipts"]``): each consent post leaves
one receipt in the configured sink, its user agent hashed with the key the framework's secret
gives the consent cookie."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import Client as DjangoClient
from django.test import RequestFactory, override_settings
from flask import Flask
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from consentware.core.codec import derive_secret_key
from consentware.django import ConsentMiddleware as DjangoMiddleware
from consentware.django import load_config
from consentware.flask import Consentware
from consentware.receipts import MemoryReceipts, Receipt, SQLReceipts, hash_user_agent
from consentware.starlette import ConsentMiddleware, install
from tests.test_django import EXAMPLE, KEY, configure_django

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": UA}
BODY = urlencode([("action", "save"), ("category", "statistical"), ("next", "/shop?x=1")])
#: What Django's settings name by dotted path.
DJANGO_RECEIPTS = MemoryReceipts()


def only(store: MemoryReceipts) -> Receipt:
    (receipt,) = store.all()
    return receipt


def test_flask_reads_consentware_receipts_from_its_config() -> None:
    app = Flask(__name__)
    app.secret_key = "flask-secret"
    store = MemoryReceipts()
    app.config["CONSENTWARE_RECEIPTS"] = store
    Consentware(app)
    client = app.test_client()
    response = client.post("/_consent", data=BODY, headers={**FORM, "Origin": "http://localhost"})
    assert response.status_code == 303
    receipt = only(store)
    assert (receipt.action, receipt.granted, receipt.page) == ("save", ("statistical",), "/shop")
    key = derive_secret_key("flask-secret")
    assert isinstance(key, str)
    assert receipt.user_agent_hash == hash_user_agent(UA, key)


def test_flask_takes_the_option_as_an_argument_too() -> None:
    app = Flask(__name__)
    store = MemoryReceipts()
    Consentware(app, receipts=store)
    app.test_client().post("/_consent", data=BODY, headers={**FORM, "Origin": "http://localhost"})
    assert len(store) == 1


def starlette_app() -> Starlette:
    async def home(request: Any) -> PlainTextResponse:
        return PlainTextResponse("home")

    return Starlette(routes=[Route("/", home)])


class Flushes(MemoryReceipts):
    flushed = 0

    def flush(self, timeout: float | None = None) -> bool:
        self.flushed += 1
        return True


@pytest.mark.parametrize("how", ["install", "add_middleware"])
def test_starlette_posts_leave_receipts_and_its_lifespan_flushes_them(how: str) -> None:
    app = starlette_app()
    store = Flushes()
    if how == "install":
        install(app, receipts=store, secret_key="k")
    else:
        app.add_middleware(ConsentMiddleware, receipts=store, secret_key="k")
    with TestClient(app, base_url="http://testserver") as client:
        response = client.post(
            "/_consent",
            content=BODY,
            headers={**FORM, "Origin": "http://testserver"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert store.flushed == 0
    # Leaving the client ends the lifespan: the receipts are flushed on the way out.
    assert store.flushed == 1
    assert only(store).user_agent_hash == hash_user_agent(UA, "k")


# -- Django -------------------------------------------------------------------------------


@pytest.fixture
def django_receipts(request: pytest.FixtureRequest) -> Iterator[Any]:
    configure_django()
    overrides = {k: v for k, v in EXAMPLE.items() if k not in ("INSTALLED_APPS", "DATABASES")}
    option = request.param
    consentware = {**EXAMPLE["CONSENTWARE"], "receipts": option}
    DJANGO_RECEIPTS._receipts.clear()
    with override_settings(**{**overrides, "CONSENTWARE": consentware}):
        yield option


@pytest.mark.parametrize(
    "django_receipts",
    [DJANGO_RECEIPTS, "tests.test_receipts_frameworks.DJANGO_RECEIPTS"],
    ids=["object", "dotted path"],
    indirect=True,
)
def test_django_settings_name_the_sink(django_receipts: Any) -> None:
    response = DjangoClient().post(
        "/_consent",
        BODY,
        content_type="application/x-www-form-urlencoded",
        headers={"Origin": "http://testserver", "User-Agent": UA},
    )
    assert response.status_code == 303
    receipt = only(DJANGO_RECEIPTS)
    assert (receipt.action, receipt.page) == ("save", "/shop")
    assert receipt.user_agent_hash == hash_user_agent(UA, KEY)


def test_django_takes_a_sqlalchemy_url(tmp_path: Path) -> None:
    configure_django()
    url = f"sqlite:///{tmp_path / 'receipts.db'}"
    with override_settings(CONSENTWARE={**EXAMPLE["CONSENTWARE"], "receipts": url}):
        middleware = DjangoMiddleware(lambda request: HttpResponse("page"))
        request = RequestFactory().post(
            "/_consent", BODY, content_type=FORM["Content-Type"], HTTP_ORIGIN="http://testserver"
        )
        assert middleware(request).status_code == 303
    store = middleware.recorder.sink
    assert isinstance(store, SQLReceipts)
    try:
        assert store.flush(10)
        assert [r.action for r in store.export()] == ["save"]
    finally:
        store.close(10)


@pytest.mark.parametrize(
    "django_receipts", ["tests.test_receipts_frameworks.NOTHING"], indirect=True, ids=["missing"]
)
def test_django_names_a_missing_sink(django_receipts: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"CONSENTWARE\.receipts"):
        load_config()
