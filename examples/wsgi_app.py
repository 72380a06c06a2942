"""A minimal WSGI app behind consentware: it sets a necessary and a statistical cookie.

Run it with ``.venv/bin/python -m examples.wsgi_app`` and look at what leaves the server::

    curl -si http://127.0.0.1:8001/ | grep -i -e set-cookie -e vary
    CONSENT=$(.venv/bin/python -m examples.wsgi_app --consent statistical)
    curl -si -b "cookies_preferences=$CONSENT" http://127.0.0.1:8001/ | grep -i set-cookie

The first visitor is undecided: only ``sessionid`` arrives. The second granted statistics:
``_ga`` arrives too. Send ``-b '_ga=old'`` without consent and the response expires it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from consentware import ConsentCookie, Policy, get_consent
from consentware.wsgi import ConsentMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

HOST, PORT = "127.0.0.1", 8001
policy = Policy.default()


def site(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """The app as written without any thought of consent: it sets both cookies every time."""
    state = get_consent(environ)
    body = (
        "consentware WSGI example\n"
        f"consent decided: {state.decided}; granted: {', '.join(sorted(state.granted))}\n"
        "this response sets sessionid (necessary) and _ga (statistical);\n"
        "consentware lets out only what you consented to.\n"
    ).encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Set-Cookie", "sessionid=example-session; HttpOnly; Path=/; SameSite=Lax"),
            ("Set-Cookie", "_ga=GA1.1.123456789.1700000000; Path=/; Max-Age=34128000"),
        ],
    )
    return [body]


app = ConsentMiddleware(site, policy=policy)


def main(argv: list[str]) -> None:
    """Serve the example, or with ``--consent CATEGORY...`` print a consent cookie value."""
    if argv[:1] == ["--consent"]:
        print(ConsentCookie(policy).dumps(argv[1:]))
        return
    from werkzeug.serving import run_simple

    run_simple(HOST, PORT, app, threaded=True)


if __name__ == "__main__":
    main(sys.argv[1:])
