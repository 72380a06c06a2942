"""``python -m examples.flask_app [--port 8003]``: serve the Flask example, threaded."""

from __future__ import annotations

import argparse

from werkzeug.serving import run_simple

from . import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8003)
    args = parser.parse_args()
    print(f"consentware Flask example on http://{args.host}:{args.port}/")
    run_simple(args.host, args.port, create_app(), threaded=True)


if __name__ == "__main__":
    main()
