"""``python -m examples.fastapi_app [--port 8004]``: serve the FastAPI example with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8004)
    args = parser.parse_args()
    uvicorn.run("examples.fastapi_app:app", host=args.host, port=args.port)


if __name__ == "__main__":
    main()
