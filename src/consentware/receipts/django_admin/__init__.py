"""A read-only Django admin listing of consent receipts, for sites that run Django.

Add the app and say which Django database holds the receipts table (the database of the
``SQLReceipts`` URL, declared once more for Django)::

    INSTALLED_APPS += ["consentware.receipts.django_admin"]

    DATABASES["receipts"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": "consent-receipts.db"}
    CONSENTWARE = {..., "receipts": "sqlite:///consent-receipts.db",
                   "receipts_database": "receipts"}     # default: "default"

The model is unmanaged and the app has no migrations: ``SQLReceipts`` creates and owns the
table, Django only reads it. Nothing can be added, changed or deleted from the admin (retention
is ``consentware receipts prune``). Receipts still in the spool during an outage are not listed;
``consentware receipts find`` includes them.
"""
