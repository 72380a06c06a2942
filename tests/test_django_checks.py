"""consentware's Django system checks: each says what is wrong and how to fix it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.test import override_settings

from consentware.django.checks import MIDDLEWARE_PATH, check_consentware
from tests.test_django import EXAMPLE, configure_django

SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
CSRF = "django.middleware.csrf.CsrfViewMiddleware"
GZIP = "django.middleware.gzip.GZipMiddleware"


@pytest.fixture(autouse=True)
def _django() -> None:
    configure_django()


def ids(**overrides: Any) -> list[str]:
    with override_settings(**overrides):
        return [message.id for message in check_consentware()]


@pytest.mark.parametrize(
    ("middleware", "expected"),
    [
        pytest.param([MIDDLEWARE_PATH, SESSION, CSRF], [], id="first"),
        pytest.param([GZIP, MIDDLEWARE_PATH, SESSION], [], id="below-gzip-is-fine"),
        pytest.param([SESSION, MIDDLEWARE_PATH, CSRF], ["consentware.E002"], id="below-session"),
        pytest.param([SESSION, CSRF], ["consentware.E001"], id="missing"),
    ],
)
def test_the_middleware_must_be_above_every_cookie_setter(
    middleware: list[str], expected: list[str]
) -> None:
    assert ids(MIDDLEWARE=middleware) == expected


def test_a_misplaced_middleware_names_the_layers_and_the_fix() -> None:
    with override_settings(MIDDLEWARE=[SESSION, MIDDLEWARE_PATH]):
        (error,) = check_consentware()
    assert error.level == checks.ERROR
    assert SESSION in error.msg
    assert "first in MIDDLEWARE" in (error.hint or "")


def test_a_broken_setting_is_an_error_naming_the_key() -> None:
    broken = {**EXAMPLE["CONSENTWARE"], "unknown_cookies": "maybe"}
    with override_settings(CONSENTWARE=broken):
        (error,) = check_consentware()
    assert error.id == "consentware.E003"
    assert "unknown_cookies" in error.msg


def test_a_framework_cookie_in_an_optional_category_is_warned_about() -> None:
    data = {
        "categories": {"statistical": {"title": "Statistics"}},
        "cookies": [{"name": "sessionid", "category": "statistical"}],
    }
    assert ids(CONSENTWARE=data) == ["consentware.W001"]


@pytest.mark.parametrize(
    ("debug", "expected"),
    [
        pytest.param(False, ["consentware.W002"], id="production"),
        pytest.param(True, [], id="debug"),
    ],
)
def test_an_unsigned_consent_cookie_is_warned_about_outside_debug(
    debug: bool, expected: list[str]
) -> None:
    data = {**EXAMPLE["CONSENTWARE"], "secret_key": None}
    assert ids(CONSENTWARE=data, DEBUG=debug) == expected


def test_the_example_project_passes_every_check() -> None:
    assert ids() == []


def test_the_checks_run_in_managepy_check() -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    with (
        override_settings(MIDDLEWARE=[SESSION, MIDDLEWARE_PATH]),
        pytest.raises(SystemCheckError, match=r"consentware\.E002"),
    ):
        call_command("check")
