"""``django-admin startproject``'s settings, with consentware added as its README says: the
middleware first in ``MIDDLEWARE`` and the app in ``INSTALLED_APPS``, nothing else.

``SITE_*`` environment variables vary it (see :mod:`tests.support.django_site`).
"""

from __future__ import annotations

import os
from typing import Any

SECRET_KEY = "django-insecure-consentware-test-site"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.support.django_site.urls"
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Not startproject's: a fast hasher, so logging in takes milliseconds instead of a second.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "consentware.django",
]

STARTPROJECT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
CONSENTWARE_MIDDLEWARE = "consentware.django.ConsentMiddleware"

if os.environ.get("SITE_MIDDLEWARE") == "last":
    MIDDLEWARE = [*STARTPROJECT_MIDDLEWARE, CONSENTWARE_MIDDLEWARE]
else:
    MIDDLEWARE = [CONSENTWARE_MIDDLEWARE, *STARTPROJECT_MIDDLEWARE]
if os.environ.get("SITE_GZIP") == "outside":
    # Above consentware: it compresses the page consentware has put the banner in.
    MIDDLEWARE.insert(0, "django.middleware.gzip.GZipMiddleware")
if os.environ.get("SITE_INJECT") == "1":
    CONSENTWARE: dict[str, Any] = {"inject_banner": True}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SITE_DB", ":memory:"),
    }
}
