"""The read-only admin listing: find a visitor's history by their consent id."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin

from .models import Receipt

#: The ``settings.CONSENTWARE`` key naming the Django database that holds the receipts table.
DATABASE_KEY = "receipts_database"


def receipts_database() -> str:
    """The alias of the Django database the receipts are read from (default ``"default"``)."""
    config = getattr(settings, "CONSENTWARE", None)
    alias = config.get(DATABASE_KEY, "default") if isinstance(config, dict) else "default"
    return str(alias)


@admin.register(Receipt)
class ReceiptAdmin(admin.ModelAdmin):  # type: ignore[misc]
    """Receipts listed newest first, searched by consent id or receipt id; never edited."""

    list_display = (
        "recorded_at",
        "consent_id",
        "action",
        "granted_categories",
        "refused_categories",
        "revision",
        "method",
        "page",
        "gpc",
        "language",
    )
    list_filter = ("action", "method", "gpc", "revision")
    # Exact matches: a consent id is what a visitor hands over, and exact lookups use the index.
    search_fields = ("=consent_id", "=receipt_id")
    date_hierarchy = "recorded_at"
    readonly_fields = tuple(field.name for field in Receipt._meta.fields)
    show_full_result_count = False

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).using(receipts_database())

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
