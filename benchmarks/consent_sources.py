"""What reading other consent managers' cookies costs: ``python -m benchmarks.consent_sources``.

One process, contenders interleaved (order reversed every other round), medians and ratios to
the policy without ``consent_sources``. Each request is ``Enforcer.begin`` plus
``Exchange.decide`` on five ``Set-Cookie`` lines, for 1,000 distinct visitors (own session id,
own signed consent value), so the per-header cache cannot help: a fresh enforcer per round
reads every header once ("cold"). "warm" keeps the enforcer, so its per-header cache answers.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Mapping
from typing import Any

from consentware import ConsentCookie, Enforcer, Policy
from consentware.core.presets import DEFAULT_POLICY

VISITORS = 1000
LINES = [
    "sessionid=abc; HttpOnly; Path=/",
    "csrftoken=t; Path=/",
    "_ga=GA1.2.3; Path=/",
    "_gid=GA1.2.4; Path=/",
    "_fbp=fb.1; Path=/",
]
# A 2025 OneTrust value's shape (tests/test_sources_formats.py), one consent id per visitor.
ONETRUST = (
    "isGpcEnabled=0&datestamp=Mon+Jun+30+2025+14%3A56%3A56+GMT%2B0100+(West+Africa+Standard+Time)&"
    "version=202408.1.0&browserGpcFlag=0&isIABGlobal=false&hosts=&consentId=da81c3ca-{i}&"
    "interactionCount=1&isAnonUser=1&landingPath=NotLandingPage&groups=C0001%3A1%2CC0004%3A0%2C"
    "C0002%3A1%2CC0003%3A1&AwaitingReconsent=false"
)
EVERY_FORMAT = [
    {"format": "cc_cookie"},
    {"format": "klaro", "map": {"statistical": ["matomo"]}},
    {"format": "onetrust"},
    {"format": "cookiebot"},
    {"format": "cookieyes"},
    {"format": "complianz"},
    {"format": "django-cookie-consent", "map": {"statistical": ["analytics"]}},
    {"format": "tcf"},
]
CONTENDERS: Mapping[str, tuple[list[dict[str, Any]], bool]] = {
    "no consent_sources": ([], False),
    "onetrust declared, cookie absent": ([{"format": "onetrust"}], False),
    "onetrust declared, cookie present": ([{"format": "onetrust"}], True),
    "all 8 formats declared, OneTrust's cookie present": (EVERY_FORMAT, True),
}


def _case(sources: list[dict[str, Any]], with_onetrust: bool) -> tuple[Policy, list[str]]:
    policy = Policy.from_dict({**DEFAULT_POLICY, "consent_sources": sources})
    codec = ConsentCookie(policy, "k")
    headers = []
    for i in range(VISITORS):
        value = codec.dumps(["statistical"], consent_id=f"id{i}")
        header = f"sessionid=s{i}; csrftoken=t{i}; cookies_preferences={value}; _ga=GA1.2.{i}"
        if with_onetrust:
            header += f"; OptanonConsent={ONETRUST.format(i=i)}"
        headers.append(header)
    return policy, headers


def _round(enforcer: Enforcer, headers: list[str]) -> float:
    start = time.perf_counter()
    for header in headers:
        enforcer.begin(header, None).decide(LINES)
    return (time.perf_counter() - start) / len(headers)


def main(rounds: int = 31) -> None:
    """Print each contender's median per-request cost and its ratio to no sources."""
    cases = {name: _case(*spec) for name, spec in CONTENDERS.items()}
    for warm in (False, True):
        enforcers = {name: Enforcer(policy, "k") for name, (policy, _) in cases.items()}
        times: dict[str, list[float]] = {name: [] for name in cases}
        order = list(cases)
        for index in range(rounds):
            for name in order if index % 2 == 0 else order[::-1]:
                policy, headers = cases[name]
                if not warm:
                    enforcers[name] = Enforcer(policy, "k")
                times[name].append(_round(enforcers[name], headers))
        base = times["no consent_sources"]
        print("warm (the per-header cache answers)" if warm else "cold (each header read once)")
        for name, values in times.items():
            ratios = [value / reference for value, reference in zip(values, base, strict=True)]
            low, _, high = statistics.quantiles(ratios, n=4)
            print(
                f"  {name:52s} {statistics.median(values) * 1e6:8.2f} µs   "
                f"x{statistics.median(ratios):.2f} (IQR {low:.2f} to {high:.2f})"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 31)
