"""Hypothesis settings for the fuzz targets, chosen by the ``HYPOTHESIS_PROFILE`` variable.

``ci`` (the default) is the short run of the normal suite: derandomized, so every run of the
suite tries the same examples. ``fuzz`` is what ``make fuzz`` runs: 100,000 random examples per
target, failures kept in the ``.hypothesis`` example database. ``dev`` is a middle ground
(2,000 examples) for a quick local search.

The profiles are applied per test (``@FUZZ``), never loaded globally, so other hypothesis tests
of the suite keep their own settings.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SLOW_INPUTS = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
    HealthCheck.filter_too_much,
]

settings.register_profile(
    "consentware.ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=_SLOW_INPUTS,
)
settings.register_profile(
    "consentware.dev",
    max_examples=2_000,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_INPUTS,
)
settings.register_profile(
    "consentware.fuzz",
    max_examples=100_000,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_INPUTS,
)

#: The active profile's name: ``ci``, ``dev`` or ``fuzz``.
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "dev", "fuzz"):
    PROFILE = "ci"

#: Decorate a ``@given`` test with this to run it under the active profile.
FUZZ = settings(settings.get_profile(f"consentware.{PROFILE}"))


def scaled(ci: int) -> settings:
    """The active profile, with ``ci`` examples (instead of the default) in the short run.

    For targets whose examples are expensive (thousands of cookies, 100 KB values) the short
    run tries fewer; the ``dev`` and ``fuzz`` profiles keep their own counts.
    """
    if PROFILE != "ci":
        return FUZZ
    return settings(FUZZ, max_examples=ci)
