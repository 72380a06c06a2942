"""``module:attribute`` to a running app: import it and tell WSGI from ASGI.

The attribute may be dotted (``pkg.mod:site.app``) and may end in ``()`` to call an app
factory (``examples.flask_app:create_app()``), as gunicorn allows. The current directory is put
on ``sys.path`` first, as ``uvicorn`` and ``flask run`` do, so ``consentware audit app:app``
works from a project's root.

ASGI is told by the call: a coroutine function (or an object whose ``__call__`` is one), or a
callable of three parameters (``scope, receive, send``); WSGI by two (``environ,
start_response``).

Example::

    loaded = load_target("examples.asgi_app:app")
    loaded.kind      # "asgi"
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from dataclasses import dataclass
from typing import Any, Literal

from ._errors import UsageError

__all__ = ["LoadedApp", "app_kind", "is_app_target", "load_target"]

AppKind = Literal["wsgi", "asgi"]


@dataclass(frozen=True, slots=True)
class LoadedApp:
    """An imported app and how to call it."""

    spec: str
    app: Any
    kind: AppKind


def is_app_target(target: str) -> bool:
    """Whether ``target`` looks like ``module:attribute`` rather than a URL."""
    return ":" in target and "://" not in target


def load_target(spec: str) -> LoadedApp:
    """Import ``spec`` (``module:attribute``); :class:`UsageError` says what to write instead."""
    module_name, _, attribute = spec.partition(":")
    example = "write module:attribute, such as examples.wsgi_app:app"
    if not module_name or not attribute:
        raise UsageError(f"TARGET {spec!r}: {example}, or an http(s):// URL")
    call = attribute.endswith("()")
    attribute = attribute.removesuffix("()")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(
            f"TARGET {spec!r}: cannot import {module_name!r} ({exc}); {example}"
        ) from None
    app: Any = module
    for part in attribute.split("."):
        try:
            app = getattr(app, part)
        except AttributeError:
            names = ", ".join(n for n in dir(module) if not n.startswith("_"))[:300]
            raise UsageError(
                f"TARGET {spec!r}: {module_name} has no attribute {attribute!r} (it has: {names})"
            ) from None
    if call:
        try:
            app = app()
        except Exception as exc:
            raise UsageError(f"TARGET {spec!r}: calling {attribute}() failed: {exc!r}") from exc
    kind = app_kind(app)
    if kind is None:
        hint = " (a factory? write it with (), as in module:create_app())" if callable(app) else ""
        raise UsageError(
            f"TARGET {spec!r}: {type(app).__name__} is neither a WSGI app (environ, "
            f"start_response) nor an ASGI app (scope, receive, send){hint}"
        )
    return LoadedApp(spec, app, kind)


def app_kind(app: Any) -> AppKind | None:
    """``"asgi"``, ``"wsgi"``, or ``None`` when ``app`` is neither."""
    if not callable(app):
        return None
    if inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(
        getattr(app, "__call__", None)  # noqa: B004 - the bound method is what is awaited
    ):
        return "asgi"
    try:
        parameters = list(inspect.signature(app).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if any(p.kind == p.VAR_POSITIONAL for p in parameters):
        return "wsgi" if len(positional) <= 2 else "asgi"
    if len(positional) == 3:
        return "asgi"
    if len(positional) == 2:
        return "wsgi"
    return None
