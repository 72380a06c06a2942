"""A first look: the default policy deciding on sample request and response headers.

Run with ``make demo``.
"""

from __future__ import annotations

from consentware import ConsentCookie, Enforcer, Policy


def main() -> None:
    policy = Policy.default()
    enforcer = Enforcer(policy)
    granted = ConsentCookie(policy).dumps(["statistical"])
    responses = ["sessionid=abc; HttpOnly; Path=/", "_ga=GA1.2.3; Path=/", "_fbp=fb.1; Path=/"]
    for label, cookie in [
        ("undecided visitor", "_fbp=fb.1.old"),
        ("granted statistics", f"cookies_preferences={granted}; _fbp=fb.1.old"),
    ]:
        exchange = enforcer.begin(cookie, None)
        decision = exchange.decide(responses)
        print(f"== {label}: granted {sorted(exchange.state.granted)}")
        for line, keep in zip(responses, decision.keep, strict=True):
            print(f"   {'pass ' if keep else 'BLOCK'} Set-Cookie: {line}")
        for line in decision.added:
            print(f"   added Set-Cookie: {line}")


if __name__ == "__main__":
    main()
