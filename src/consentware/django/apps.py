"""``INSTALLED_APPS += ["consentware.django"]``: consentware's system checks in ``manage.py check``.

The checks (ids ``consentware.*``) are in :mod:`consentware.django.checks`; the app has no models.
"""

from __future__ import annotations

from django.apps import AppConfig


class ConsentwareConfig(AppConfig):  # type: ignore[misc]  # Django ships no types
    """The Django app of consentware: registers its system checks."""

    name = "consentware.django"
    label = "consentware"
    verbose_name = "consentware"

    def ready(self) -> None:
        from . import checks

        checks.register()
