"""A middleware given a wrong option says which and what to write, the same in every adapter."""

from __future__ import annotations

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
