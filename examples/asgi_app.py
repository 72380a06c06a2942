"""A minimal ASGI app behind consentware: it sets a necessary and a statistical cookie.

Run it with ``.venv/bin/python -m examples.asgi_app`` (uvicorn on 127.0.0.1:8002) and look
at what leaves the server::

    curl -si http://127.0.0.1:8002/ | grep -i -e set-cookie -e vary
    CONSENT=$(.venv/bin/python -m examples.asgi_app --consent statistical)
    curl -si -b "cookies_preferences=$CONSENT" http://127.0.0.1:8002/ | grep -i set-cookie

The first visitor is undecided: only ``sessionid`` arrives. The second granted statistics:
``_ga`` arrives too. Send ``-b '_ga=old'`` without consent and the response expires it.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from consentware import ConsentCookie, Policy, get_consent
from consentware.asgi import ConsentMiddleware

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

HOST, PORT = "127.0.0.1", 8002
policy = Policy.default()


async def site(scope: Scope, receive: Receive, send: Send) -> None:
    """The app as written without any thought of consent: it sets both cookies every time."""
    if scope["type"] != "http":
        return
    state = get_consent(scope)
    body = (
        "consentware ASGI example\n"
        f"consent decided: {state.decided}; granted: {', '.join(sorted(state.granted))}\n"
        "this response sets sessionid (necessary) and _ga (statistical);\n"
        "consentware lets out only what you consented to.\n"
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"set-cookie", b"sessionid=example-session; HttpOnly; Path=/; SameSite=Lax"),
                (b"set-cookie", b"_ga=GA1.1.123456789.1700000000; Path=/; Max-Age=34128000"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


app = ConsentMiddleware(site, policy=policy)


def main(argv: list[str]) -> None:
    """Serve the example, or with ``--consent CATEGORY...`` print a consent cookie value."""
    if argv[:1] == ["--consent"]:
        print(ConsentCookie(policy).dumps(argv[1:]))
        return
    import uvicorn

    uvicorn.run(app, host=HOST, port=PORT, lifespan="off")


if __name__ == "__main__":
    main(sys.argv[1:])
