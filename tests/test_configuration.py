"""A middleware given a wrong option says which and what to write, the same in every adapter."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from consentware import ConfigurationError, Policy, PolicyError
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.wsgi import ConsentMiddleware as WsgiMiddleware

ADAPTERS = [pytest.param(WsgiMiddleware, id="wsgi"), pytest.param(AsgiMiddleware, id="asgi")]


def _app(*args: Any) -> Any:
    return None


@pytest.mark.parametrize("middleware", ADAPTERS)
@pytest.mark.parametrize(
    ("options", "error", "setting", "hint"),
    [
        pytest.param(
            {"secret_key": 123}, ConfigurationError, "secret_key", "os.environ", id="int-key"
        ),
        pytest.param(
            {"secret_key": ""}, ConfigurationError, "secret_key", "non-empty", id="empty-key"
        ),
        pytest.param(
            {"secret_key": ["a", 1]},
            ConfigurationError,
            "secret_key",
            "str or bytes",
            id="list-with-int",
        ),
        pytest.param(
            {"on_report": "log"},
            ConfigurationError,
            "on_report",
            "callable",
            id="report-not-callable",
        ),
        pytest.param(
            {"prefix": "_consent"}, ConfigurationError, "prefix", "leading /", id="relative-prefix"
        ),
        pytest.param(
            {"prefix": "/_consent/"},
            ConfigurationError,
            "prefix",
            "no trailing",
            id="trailing-slash",
        ),
        pytest.param(
            {"inject_banner": "yes"},
            ConfigurationError,
            "inject_banner",
            "True or False",
            id="banner-str",
        ),
        pytest.param({"policy": 42}, PolicyError, "policy", "TOML file", id="policy-int"),
    ],
)
def test_a_wrong_option_names_itself(
    middleware: Any, options: dict[str, Any], error: type[Exception], setting: str, hint: str
) -> None:
    with pytest.raises(error) as caught:
        middleware(_app, **options)
    assert isinstance(caught.value, ValueError)
    named = (
        caught.value.setting if isinstance(caught.value, ConfigurationError) else caught.value.path
    )
    assert named == setting
    assert hint in str(caught.value)


@pytest.mark.parametrize("middleware", ADAPTERS)
def test_a_policy_path_is_loaded(middleware: Any, tmp_path: Path) -> None:
    path = tmp_path / "cookies.toml"
    path.write_text(
        '[[cookies]]\nname = "_ga"\ncategory = "statistical"\n'
        '[categories.statistical]\ntitle = "Statistics"\n',
        encoding="utf-8",
    )
    wrapped = middleware(_app, policy=str(path))
    assert wrapped.policy.category_of("_ga") == "statistical"
    assert middleware(_app, policy=path).policy.category_of("_ga") == "statistical"


@pytest.mark.parametrize("middleware", ADAPTERS)
def test_a_bad_policy_file_names_the_file(middleware: Any, tmp_path: Path) -> None:
    path = tmp_path / "cookies.toml"
    path.write_text('[[cookies]]\nname = "_ga"\ncategory = "stats"\n', encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        middleware(_app, policy=path)
    assert caught.value.file == str(path)
    assert caught.value.path == "cookies[0].category"


@pytest.mark.parametrize("middleware", ADAPTERS)
def test_a_dict_policy_is_validated(middleware: Any) -> None:
    assert middleware(_app, policy={"unknown_cookies": "allow"}).policy.unknown_cookies == "allow"
    assert isinstance(middleware(_app).policy, Policy)


@pytest.mark.parametrize("middleware", ADAPTERS)
def test_a_missing_key_is_warned_about_and_none_means_unsigned_on_purpose(
    middleware: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="consentware"):
        middleware(_app)
    assert any("no secret_key" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="consentware"):
        middleware(_app, secret_key=None)
        middleware(_app, secret_key="k")
    assert not any("secret_key" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("# only a comment\n", "empty", id="comment-only"),
    ],
)
def test_an_empty_policy_file_is_an_error_naming_it(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "cookies.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        Policy.from_toml(path)
    assert caught.value.file == str(path)
    assert reason in caught.value.reason


def test_a_missing_policy_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(PolicyError) as caught:
        Policy.from_toml(path)
    assert caught.value.file == str(path)
    assert "cannot read" in caught.value.reason


def test_flask_reads_a_relative_policy_path_from_the_app_root(tmp_path: Path) -> None:
    from flask import Flask

    from consentware.flask import Consentware

    (tmp_path / "cookies.toml").write_text(
        '[categories.statistical]\ntitle = "Statistics"\n'
        '[[cookies]]\nname = "_ga"\ncategory = "statistical"\n',
        encoding="utf-8",
    )
    app = Flask(__name__, root_path=str(tmp_path))
    app.secret_key = "k"
    Consentware(app, policy="cookies.toml")
    assert app.extensions["consentware"].policy.category_of("_ga") == "statistical"


def test_django_reads_a_relative_policy_path_from_base_dir(tmp_path: Path) -> None:
    from django.test import override_settings

    from consentware.django import load_config
    from tests.test_django import configure_django

    configure_django()
    (tmp_path / "cookies.toml").write_text(
        '[categories.statistical]\ntitle = "Statistics"\n'
        '[[cookies]]\nname = "_ga"\ncategory = "statistical"\n',
        encoding="utf-8",
    )
    with override_settings(BASE_DIR=tmp_path, CONSENTWARE={"policy": "cookies.toml"}):
        assert load_config().policy.category_of("_ga") == "statistical"
