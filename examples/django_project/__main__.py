"""``python -m examples.django_project [--asgi] [--port 8005]``: serve the Django example.

WSGI by default (werkzeug's threaded server), or ASGI under uvicorn with ``--asgi``.
"""

from __future__ import annotations

import argparse
import os


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8005)
    parser.add_argument("--asgi", action="store_true", help="serve with uvicorn (ASGI)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_project.settings")
    print(f"consentware Django example on http://{args.host}:{args.port}/")
    if args.asgi:
        import uvicorn

        uvicorn.run("examples.django_project.asgi:application", host=args.host, port=args.port)
    else:
        from werkzeug.serving import run_simple

        from .wsgi import application

        run_simple(args.host, args.port, application, threaded=True)


if __name__ == "__main__":
    main()
