"""The Django app of the receipts' admin listing."""

from __future__ import annotations

from django.apps import AppConfig


class ReceiptsAdminConfig(AppConfig):  # type: ignore[misc]
    """``consentware.receipts.django_admin``: the receipts table, read-only, in the admin."""

    name = "consentware.receipts.django_admin"
    label = "consentware_receipts"
    verbose_name = "Consent receipts"
    default_auto_field = "django.db.models.AutoField"
