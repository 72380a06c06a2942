"""Serve the demo on http://127.0.0.1:8000 with werkzeug's threaded server."""

from __future__ import annotations

import argparse

from werkzeug.serving import run_simple

from . import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    print(f"consentware demo on http://{args.host}:{args.port}/  (Ctrl+C to stop)")
    run_simple(args.host, args.port, create_app(), threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
