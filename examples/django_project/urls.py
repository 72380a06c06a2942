"""URLs of the Django example."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("state", views.state, name="state"),
    path("async-state", views.async_state, name="async-state"),
    path("message", views.message, name="message"),
]
