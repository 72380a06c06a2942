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

from ._apps import POLICY, SECRET_KEY


async def hello(request: Request) -> Response:
    return PlainTextResponse("Hello, world!")


def make_app(with_consentware: bool) -> Starlette:
    middleware = (
        [Middleware(ConsentMiddleware, policy=POLICY, secret_key=SECRET_KEY)]
        if with_consentware
        else []
    )
    return Starlette(routes=[Route("/", hello)], middleware=middleware)


bare = make_app(False)
consentware = make_app(True)
