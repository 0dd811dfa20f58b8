"""The two shells around the fake Hub's core: an httpx transport and a werkzeug HTTP server.

Both turn bytes into a :class:`FakeRequest`, ask :meth:`HubCore.handle`, apply the latency knob
and answer — or, for a dropped connection, close it without a response.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import httpx

from ._core import HubCore
from ._wire import FakeRequest, FakeResponse

if TYPE_CHECKING:  # pragma: no cover
    from werkzeug.serving import BaseWSGIServer


class FakeHubTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport that answers from a fake Hub's state without a socket.

    One object serves both ``httpx.Client(transport=...)`` and ``httpx.AsyncClient(transport=...)``.
    The host of the URL is ignored; the path must carry the service prefix (``/core/nodes``).
    ``address`` is the client address the requests come from (the rate limiter counts per address).
    """

    def __init__(self, core: HubCore, latency: Callable[[], float], address: str = "127.0.0.1") -> None:
        self._core = core
        self._latency = latency
        self._address = address

    def _answer(self, request: httpx.Request, body: bytes) -> FakeResponse:
        req = FakeRequest(
            method=request.method,
            path=request.url.path,
            params=HubCore.parse_query(request.url.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            client=self._address,
        )
        return self._core.handle(req)

    @staticmethod
    def _to_httpx(request: httpx.Request, resp: FakeResponse) -> httpx.Response:
        if resp.drop:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.",
                                            request=request)
        return httpx.Response(resp.status, headers=resp.headers, content=resp.body, request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self._answer(request, request.read())
        delay = self._latency()
        if delay > 0:
            time.sleep(delay)
        return self._to_httpx(request, resp)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        resp = self._answer(request, await request.aread())
        delay = self._latency()
        if delay > 0:
            await asyncio.sleep(delay)
        return self._to_httpx(request, resp)


#: what a FakeHub server without the ``testing`` extra says
NEEDS_WERKZEUG = ("the fake Hub's HTTP server needs werkzeug, which comes with the testing extra: "
                  "pip install 'flame-hub-client[testing]' (FakeHub().transport() works without it)")


def make_wsgi_app(core: HubCore, latency: Callable[[], float]):
    """The fake Hub as a WSGI application (werkzeug parses the request)."""
    try:
        from werkzeug.wrappers import Request  # noqa: PLC0415
    except ImportError as exc:
        raise ModuleNotFoundError(NEEDS_WERKZEUG, name="werkzeug") from exc

    def app(environ, start_response):
        request = Request(environ)
        req = FakeRequest(
            method=request.method,
            path=request.path,
            params=HubCore.parse_query(environ.get("QUERY_STRING", "")),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=request.get_data(cache=False),  # always read completely (keep-alive relies on it)
            client=environ.get("REMOTE_ADDR") or "127.0.0.1",
        )
        resp = core.handle(req)
        delay = latency()
        if delay > 0:
            time.sleep(delay)
        if resp.drop:
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            raise _Dropped("connection dropped by hub.drop_next()")
        headers = [*resp.headers, ("Content-Length", str(len(resp.body)))]
        start_response(f"{resp.status} {_phrase(resp.status)}", headers)
        return [resp.body]

    return app


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _Dropped(ConnectionError):
    """Raised after the socket was shut down; werkzeug treats it as a dropped connection."""


class ServerThread:
    """A threaded werkzeug server on 127.0.0.1 with HTTP/1.1 keep-alive, on a daemon thread.

    werkzeug's handler parses requests; the fake answers with its own ``run_wsgi`` so that
    connections stay open like behind the Hub's gateway. ``stop()`` closes the open ones.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: PLC0415

        connections: set[socket.socket] = set()
        self._connections = connections
        self._lock = threading.Lock()
        lock = self._lock

        class Handler(WSGIRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 60  # idle keep-alive connections end after a minute

            def setup(self) -> None:
                super().setup()
                # headers and body are two writes: without this, Nagle's algorithm and the
                # client's delayed ACK stall every keep-alive answer by ~40 ms
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with lock:
                    connections.add(self.connection)

            def finish(self) -> None:
                with lock:
                    connections.discard(self.connection)
                super().finish()

            def run_wsgi(self) -> None:
                """Run the app and answer, keeping the connection open (HTTP/1.1).

                werkzeug's own ``run_wsgi`` always sends ``Connection: close`` and drains the
                socket afterwards (it cannot know whether the app read the body); this app reads
                every body completely and answers with a Content-Length, so neither is needed."""
                if self.headers.get("Expect", "").lower().strip() == "100-continue":
                    self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                environ = self.make_environ()
                started: list = []
                try:
                    def start_response(status: str, headers: list[tuple[str, str]],
                                       exc_info: Any = None) -> Callable[[bytes], object]:
                        started.append((status, headers))
                        return self.wfile.write  # never called: the app returns its body

                    chunks = self.server.app(environ, start_response)
                    body = b"".join(chunks)
                except ConnectionError:
                    self.close_connection = True
                    return
                status, headers = started[0]
                code, _, phrase = status.partition(" ")
                self.send_response(int(code), phrase)
                for key, value in headers:
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                self.wfile.flush()

            def log_request(self, code="-", size="-"):  # noqa: ANN001
                if not quiet:
                    super().log_request(code, size)

            def log_error(self, format, *args):  # noqa: A002, ANN001
                if not quiet:
                    super().log_error(format, *args)

            def connection_dropped(self, error, environ=None):  # noqa: ANN001
                pass  # a dropped connection is what the fault asked for

        self.server: BaseWSGIServer = make_server(host, port, app, threaded=True,
                                                  request_handler=Handler)
        self.server.daemon_threads = True  # type: ignore[attr-defined]
        self.host = host
        self.port = self.server.server_port
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="fake-hub-server",
                                        daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            open_connections = list(self._connections)
        for sock in open_connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
