"""A tiny HTTP/1.1 server on loopback that writes response headers byte for byte.

werkzeug's and wsgiref's servers encode header values as Latin-1 and refuse anything else; the
cookie tests need ``Set-Cookie`` values sent exactly as a test wrote them (UTF-8 included). One
response per connection (``Connection: close``); the handler gets the method, the request
target and the lower-cased headers, and returns a status line, header pairs and a body::

    def handler(method, target, headers):
        return "200 OK", [("Set-Cookie", "a=1")], b"ok"

    with serve_raw(handler) as port:
        ...
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

Handler = Callable[[str, str, dict[str, str]], tuple[str, list[tuple[str, str]], bytes]]

__all__ = ["Handler", "serve_raw"]


@contextlib.contextmanager
def serve_raw(handler: Handler) -> Iterator[int]:
    """Serve ``handler`` on ``127.0.0.1`` and a free port (yielded) until the block ends."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=_serve, args=(conn, handler), daemon=True).start()

    thread = threading.Thread(target=loop, name="raw-http", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def _serve(conn: socket.socket, handler: Handler) -> None:
    with conn:
        conn.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        status, pairs, body = handler(method, target, headers)
        out = [f"HTTP/1.1 {status}".encode()]
        for key, value in [*pairs, ("Content-Length", str(len(body))), ("Connection", "close")]:
            out.append(key.encode() + b": " + value.encode("utf-8"))
        conn.sendall(b"\r\n".join(out) + b"\r\n\r\n" + body)
