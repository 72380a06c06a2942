"""The admin at ``/admin/`` and one plain page at ``/page``."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path

#: Long enough for Django's GZipMiddleware (200 bytes) to compress it.
PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>A Django page</title>"
    "</head><body><h1 id='title'>A Django page</h1>"
    + "<p>Nothing on this page knows about cookie consent.</p>" * 20
    + "<p id='last'>the end of the page</p></body></html>"
)


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("page", page),
]
