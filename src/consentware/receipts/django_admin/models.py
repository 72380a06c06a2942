"""The receipts table as Django sees it: an unmanaged model over ``SQLReceipts``' own table.

``managed = False`` and no migrations: Django never creates, alters or drops the table
(``SQLReceipts``' ``receipts_table`` is its schema; tests/test_receipts_django_admin.py keeps the
two in step). Importing it needs no SQLAlchemy.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models

#: ``SQLReceipts``' table.
TABLE_NAME = "consentware_receipts"


class Receipt(models.Model):  # type: ignore[misc]
    """One consent receipt (see :class:`consentware.receipts.Receipt`), read-only."""

    receipt_id = models.CharField(max_length=32, primary_key=True)
    consent_id = models.CharField(max_length=64, db_index=True)
    action = models.CharField(max_length=16)
    granted = models.TextField()
    refused = models.TextField()
    revision = models.IntegerField()
    policy_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    recorded_at = models.DateTimeField()
    page = models.CharField(max_length=2048, null=True)
    gpc = models.BooleanField()
    language = models.CharField(max_length=35, null=True)
    user_agent_hash = models.CharField(max_length=32, null=True)

    class Meta:
        managed = False
        db_table = TABLE_NAME
        ordering = ("-recorded_at", "-receipt_id")
        verbose_name = "consent receipt"

    def granted_categories(self) -> str:
        """The granted categories, comma-separated (the column holds a JSON array)."""
        return _names(self.granted)

    def refused_categories(self) -> str:
        """The refused categories, comma-separated."""
        return _names(self.refused)

    def __str__(self) -> str:
        return f"{self.consent_id} {self.action} at {self.recorded_at:%Y-%m-%d %H:%M:%S}"


def _names(column: Any) -> str:
    try:
        return ", ".join(json.loads(column)) or "-"
    except (TypeError, ValueError):
        return str(column)
