"""Views of the Django example: each sets ``_ga`` and ``_fbp`` whatever the consent."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render


def index(request: HttpRequest) -> HttpResponse:
    """The page: the consent state, the banner, a form with ``{% csrf_token %}``."""
    visits = request.session["visits"] = request.session.get("visits", 0) + 1
    response = render(request, "index.html", {"visits": visits})
    _set_trackers(response)
    return response


def state(request: HttpRequest) -> HttpResponse:
    """The consent state as the view sees it, as JSON (and a CSRF cookie)."""
    visits = request.session["visits"] = request.session.get("visits", 0) + 1
    get_token(request)
    response = JsonResponse({"visits": visits, **_state(request)})
    _set_trackers(response)
    return response


async def async_state(request: HttpRequest) -> HttpResponse:
    """The same from an async view (Django runs the chain async under ASGI)."""
    response = JsonResponse(_state(request))
    _set_trackers(response)
    return response


def message(request: HttpRequest) -> HttpResponse:
    """Queue a message (the messages cookie) and go back to the page."""
    messages.info(request, "Your cookie choices are respected.")
    return redirect("index")


def _state(request: Any) -> dict[str, Any]:
    consent = request.consent
    return {
        "decided": consent.decided,
        "granted": sorted(consent.granted),
        "statistics": consent.allows("statistical"),
    }


def _set_trackers(response: HttpResponse) -> None:
    # The view sets them unconditionally: deciding is consentware's job, not the view's.
    response.set_cookie("_ga", "GA1.1.123456789.1700000000", max_age=400 * 86400)
    response.set_cookie("_fbp", "fb.1.1700000000.123456789", max_age=90 * 86400)
