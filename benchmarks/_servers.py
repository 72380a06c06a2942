"""Starlette hello-world apps, bare and wrapped, for the in-process and the uvicorn + wrk rows.

``uvicorn benchmarks._servers:bare`` and ``uvicorn benchmarks._servers:consentware`` serve the
same page; only the middleware differs.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from consentware.asgi import ConsentMiddleware

from ._apps import POLICY, SECRET_KEY, NoopASGIMiddleware


async def hello(request: Request) -> Response:
    return PlainTextResponse("Hello, world!")


def make_app(kind: str) -> Starlette:
    """``bare``, ``consentware``, or ``noop`` (a pure ASGI middleware that only forwards)."""
    middleware = {
        "bare": [],
        "consentware": [Middleware(ConsentMiddleware, policy=POLICY, secret_key=SECRET_KEY)],
        "noop": [Middleware(NoopASGIMiddleware)],
    }[kind]
    return Starlette(routes=[Route("/", hello)], middleware=middleware)


bare = make_app("bare")
consentware = make_app("consentware")
noop = make_app("noop")
