"""Settings of the Django example: consentware first in MIDDLEWARE, the policy in CONSENTWARE."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

#: A fixed development key; read it from the environment in production.
SECRET_KEY = "dev-only-django-example-key"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "examples.django_project.urls"
WSGI_APPLICATION = "examples.django_project.wsgi.application"
INSTALLED_APPS = ["django.contrib.messages", "consentware.django"]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

MIDDLEWARE = [
    # First, so it sees the final response: the cookies of every middleware below count.
    "consentware.django.ConsentMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

# Sessions and messages in signed cookies: the example needs no database.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.messages.context_processors.messages",
                "consentware.django.context_processor",
            ],
        },
    }
]

# The policy schema of consentware, plus middleware options (secret_key defaults to a key
# derived from SECRET_KEY).
CONSENTWARE = {
    "categories": {
        "statistical": {"title": "Statistics", "consent_mode": ["analytics_storage"]},
        "third_party": {
            "title": "Advertising",
            "gpc_opt_out": True,
            "consent_mode": ["ad_storage", "ad_user_data", "ad_personalization"],
        },
    },
    "cookies": [
        {"name": "sessionid", "category": "necessary", "function": "Session"},
        {"name": "csrftoken", "category": "necessary", "function": "CSRF protection"},
        {"name": "messages", "category": "necessary", "function": "One-time messages"},
        {"name": "_ga", "category": "statistical", "provider": "Google"},
        {"name": "_fbp", "category": "third_party", "provider": "Meta"},
    ],
}
