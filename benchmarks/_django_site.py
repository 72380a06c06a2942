"""One Django site, configured for consentware and for django-cookie-consent with the same cookies.

Django settings can be configured once per process, so the benchmark and the functional test
run this module in a process of its own::

    python -m benchmarks._django_site functional   # JSON: which cookies each one lets out
    python -m benchmarks._django_site bench        # JSON: interleaved per-request costs

django-cookie-consent is set up as its documentation says: its app installed, SQLite, the
default (local-memory) cache on, one cookie group per optional category with the same cookie
names as consentware's policy, and ``CleanCookiesMiddleware``.
"""

from __future__ import annotations

import importlib.util
import json
import re
import secrets
import sys
from typing import Any

from consentware import ConsentCookie, Policy
from consentware.core.presets import DEFAULT_POLICY

from ._apps import SECRET_KEY, wsgi_environ

HAS_DJANGO_COOKIE_CONSENT = importlib.util.find_spec("cookie_consent") is not None

#: consentware's default policy, plus django-cookie-consent's own consent cookie (necessary).
POLICY_DICT: dict[str, Any] = {
    **DEFAULT_POLICY,
    "cookies": [
        *DEFAULT_POLICY["cookies"],
        {"name": "cookie_consent", "category": "necessary", "provider": "This site"},
    ],
}
POLICY = Policy.from_dict(POLICY_DICT)

#: django-cookie-consent's groups: the optional categories and their cookie names.
GROUPS = {
    "statistical": ["_ga", "_gid"],
    "third_party": ["_gcl_au", "_fbp"],
}

CONSENTWARE = "consentware.django.ConsentMiddleware"
NOOP = "benchmarks._django_site.NoopMiddleware"
CLEAN_COOKIES = "cookie_consent.middleware.CleanCookiesMiddleware"


class NoopMiddleware:
    """The floor of any Django middleware: one more layer that calls the next."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)


def view(request: Any) -> Any:
    """A view that sets two necessary and three tracking cookies, as a site's templates might."""
    from django.http import HttpResponse

    response = HttpResponse(b"ok", content_type="text/plain")
    response.set_cookie("sessionid", "8f14e45fceea167a5a36dedd4bea2543", httponly=True)
    response.set_cookie("csrftoken", "Zk1n2b3v4c5x6z7a8s9d0f1g2h3j4k5l", samesite="Lax")
    response.set_cookie("_ga", "GA1.1.1234567890.1764386061", max_age=34190000)
    response.set_cookie("_gid", "GA1.1.987654321.1764386061", max_age=86400)
    response.set_cookie("_fbp", "fb.1.1764386061000.1234567890", max_age=7776000)
    return response


def configure() -> None:
    import django
    from django.conf import settings
    from django.urls import path

    apps = ["django.contrib.contenttypes"]
    if HAS_DJANGO_COOKIE_CONSENT:
        apps.append("cookie_consent")
    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark-django-secret",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=apps,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        MIDDLEWARE=[],
        USE_TZ=True,
        CONSENTWARE={**POLICY_DICT, "secret_key": SECRET_KEY},
        COOKIE_CONSENT_LOG_ENABLED=False,
    )
    django.setup()
    globals()["urlpatterns"] = [path("", view)]
    if HAS_DJANGO_COOKIE_CONSENT:
        _install_cookie_groups()


def _install_cookie_groups() -> None:
    from cookie_consent.models import Cookie, CookieGroup
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    for varname, names in GROUPS.items():
        group = CookieGroup.objects.create(
            varname=varname, name=varname, is_required=False, is_deletable=True
        )
        for name in names:
            Cookie.objects.create(cookiegroup=group, name=name, path="/", domain="")
    necessary = CookieGroup.objects.create(
        varname="necessary", name="necessary", is_required=True, is_deletable=False
    )
    for name in ("sessionid", "csrftoken", "django_language"):
        Cookie.objects.create(cookiegroup=necessary, name=name, path="/", domain="")


def handler(middleware: list[str]) -> Any:
    """A Django WSGI handler with exactly this middleware list."""
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    settings.MIDDLEWARE = middleware
    return WSGIHandler()


def cookie_consent_value(accepted: list[str], refused: list[str]) -> str:
    """django-cookie-consent's cookie: ``group=version`` when accepted, ``group=-1`` refused."""
    from cookie_consent.cache import all_cookie_groups

    groups = all_cookie_groups()
    parts = [f"{name}={groups[name].get_version()}" for name in accepted]
    parts += [f"{name}=-1" for name in refused]
    return "|".join(parts)


def consentware_value(granted: list[str]) -> str:
    return ConsentCookie(POLICY, SECRET_KEY).dumps(granted)


def response_cookie_names(app: Any, cookie: str) -> list[str]:
    """Names of the cookies the response sets (deletions, Max-Age=0, left out)."""
    out: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        for name, value in headers:
            if name.lower() == "set-cookie" and "max-age=0" not in value.lower():
                out.append(value.split("=", 1)[0].strip())
        return None

    body = app(wsgi_environ(cookie), start_response)
    for _ in body:
        pass
    body.close()
    return sorted(out)


def functional() -> dict[str, list[str]]:
    """First visit after an explicit refusal of every optional category: what goes out."""
    optional = list(GROUPS)
    return {
        "bare": response_cookie_names(handler([]), ""),
        "django_cookie_consent": response_cookie_names(
            handler([CLEAN_COOKIES]),
            f'cookie_consent="{cookie_consent_value([], optional)}"',
        ),
        "consentware": response_cookie_names(
            handler([CONSENTWARE]), f"cookies_preferences={consentware_value([])}"
        ),
    }


def bench_cookie_header() -> str:
    """Necessary cookies, statistics held and granted, advertising refused: in both formats."""
    return bench_cookie_headers(1)[0]


def bench_cookie_headers(n: int = 1000) -> list[str]:
    """:func:`bench_cookie_header` for ``n`` distinct visitors: each their own session id and
    their own signed consent value (no cache keyed on a whole header helps)."""
    dcc = cookie_consent_value(["statistical"], ["third_party"])
    return [
        f"sessionid={secrets.token_hex(16)}; csrftoken={secrets.token_urlsafe(24)}; "
        f'cookies_preferences={consentware_value(["statistical"])}; cookie_consent="{dcc}"; '
        f"_ga=GA1.1.{1000000 + i}.1764386061; _gid=GA1.1.987654321.1764386061"
        for i in range(n)
    ]


def bench(rounds: int) -> dict[str, Any]:
    from ._apps import wsgi_batch
    from ._harness import interleave

    cookie = bench_cookie_headers()
    contenders = {
        "bare Django view": wsgi_batch(handler([]), cookie),
        "consentware.django": wsgi_batch(handler([CONSENTWARE]), cookie),
    }
    if HAS_DJANGO_COOKIE_CONSENT:
        contenders["django-cookie-consent"] = wsgi_batch(handler([CLEAN_COOKIES]), cookie)
    contenders["no-op Django middleware"] = wsgi_batch(handler([NOOP]), cookie)
    samples = interleave(contenders, rounds=rounds, sample_seconds=0.05, warmup=50)
    setups = [("bare", []), ("consentware", [CONSENTWARE])]
    if HAS_DJANGO_COOKIE_CONSENT:
        setups.append(("django-cookie-consent", [CLEAN_COOKIES]))
    return {
        "per_call": samples.per_call,
        "cookies": {name: response_cookie_names(handler(mw), cookie[0]) for name, mw in setups},
    }


def profile(calls: int = 3000) -> list[list[Any]]:
    """Where consentware.django's time goes: its functions and what they call (own, cumulative).

    A stdlib or Django function counts only for its calls made by consentware's code: the
    view's own ``set_cookie`` and the handler's rendering of the cookies are the bare view's
    cost, not the middleware's.
    """
    import cProfile
    import pstats

    from ._apps import wsgi_batch

    run = wsgi_batch(handler([CONSENTWARE]), bench_cookie_header())
    run(100)
    profiler = cProfile.Profile()
    profiler.enable()
    run(calls)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    chain = 0.0  # the rest of the chain (the view), called by the middleware's __call__
    for (filename, lineno, func), (_cc, nc, tt, ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "consentware" not in filename:
            # Only the calls consentware's own functions make.
            ours = [v for (f, _, _), v in callers.items() if "consentware" in f]
            if not ours:
                continue
            nc, tt, ct = (sum(v[i] for v in ours) for i in (1, 2, 3))
            if "django/core/handlers/" in filename:
                chain += ct
                continue
        short = filename.split("/src/", 1)[-1].split("/site-packages/", 1)[-1]
        short = short.split("/lib/python3", 1)[-1].lstrip(".0123456789/")
        func = re.sub(r" at 0x[0-9a-f]+", "", func)  # a builtin's address changes every run
        rows.append([f"{short}:{lineno}({func})", nc / calls, tt / total, ct / total])
    for row in rows:
        if row[0].startswith("consentware/django.py") and row[0].endswith("(__call__)"):
            row[0] += " without the view"
            row[3] -= chain / total
    rows.sort(key=lambda row: row[3], reverse=True)
    return rows[:15]


def main(argv: list[str]) -> int:
    configure()
    if argv[:1] == ["functional"]:
        json.dump(functional(), sys.stdout)
    elif argv[:1] == ["bench"]:
        rounds = int(argv[1]) if len(argv) > 1 else 30
        data = bench(rounds)
        data["profile"] = profile()
        json.dump(data, sys.stdout)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
