"""The built-in HTTPS server (promises P3, P4): uvicorn with Strongroom's own TLS context.

uvicorn's own TLS options build a context whose cipher list includes CBC suites; its
Python API accepts a prepared ``SSLContext`` through ``Config(ssl_context_factory=...)``,
which is used here. On top of uvicorn:

* every response carries the security headers (:class:`SecurityHeaders`);
* the certificate and key files are checked every ``reload_interval`` seconds and on
  SIGHUP; a replaced pair is loaded into the live context without a restart;
* an optional plain-HTTP listener only redirects to HTTPS (308);
* both listeners run in one event loop; SIGINT and SIGTERM stop both gracefully
  (uvicorn's handling: after the graceful stop the signal is raised again, so SIGTERM
  ends the process as a SIGTERM would; :func:`run_server` returns after SIGINT);
* a connection that does not finish its TLS handshake within ``handshake_timeout``
  seconds, or a request's line and headers within ``header_timeout`` seconds (of the
  handshake, or of the previous response), is closed: uvicorn has no header deadline of
  its own, and asyncio's handshake deadline is a minute by default. (A request body's
  deadline is api/limits.py's, an upload's api/body.py's.) The header deadline is armed
  again whenever the server waits for a new request, after an early answer too;
* at most ``max_connections`` connections are open at once, ``max_connections_per_address``
  from one client address (IPv6 per /64): one more is closed as soon as it is made;
* the listening sockets may be bound by another process and inherited
  (``https_socket``, ``http_socket``: api/processes.py's API processes); such a server
  also stops gracefully once its supervisor (``parent_pid``) has gone;
* :meth:`HttpsService.serve` raises the open-files limit to the hard limit (refusing to
  start below what ``max_connections`` needs) and logs asyncio's failed accepts once a
  minute, not once each.

Use :func:`run_server` from a command line, :class:`ServerThread` in tests and embedders.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from strongroom.api.connections import (
    ConnectionLimits,
    header_deadline_protocol,
    quiet_accept_failures,
    raise_file_limit,
)
from strongroom.api.security_headers import ASGIApp, SecurityHeaders, https_redirect_app
from strongroom.errors import ConfigurationError, StrongroomError
from strongroom.tls.context import CertificateReloader

logger = logging.getLogger("strongroom.server")

#: Seconds between two looks at the certificate files.
RELOAD_INTERVAL = 5.0
#: Seconds a graceful stop waits for open requests before cancelling them.
GRACEFUL_SHUTDOWN_SECONDS = 30
#: Seconds a connection may take for its TLS handshake, and for a request's line and
#: headers (the settings' defaults: tls_handshake_timeout_seconds, header_timeout_seconds).
HANDSHAKE_TIMEOUT = 10.0
HEADER_TIMEOUT = 10.0
#: Connections open at once, in all and per client address (the settings' defaults:
#: max_connections, max_connections_per_address).
MAX_CONNECTIONS = 1000
MAX_CONNECTIONS_PER_ADDRESS = 64
_TICK = 0.1


class ServerFailed(StrongroomError):
    """The server could not start or stopped on a failure (the app's startup raised);
    uvicorn has logged why. uvicorn itself would exit with status 3."""

    exit_code = 3


def run_server(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    cert_path: Path,
    key_path: Path,
    http_port: int | None = None,
    on_started: Callable[[], None] | None = None,
    reload_interval: float = RELOAD_INTERVAL,
    access_log: bool = False,
    log_config: dict[str, Any] | None = None,
    header_timeout: float = HEADER_TIMEOUT,
    handshake_timeout: float = HANDSHAKE_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    max_connections_per_address: int = MAX_CONNECTIONS_PER_ADDRESS,
    https_socket: socket.socket | None = None,
    http_socket: socket.socket | None = None,
    parent_pid: int | None = None,
) -> None:
    """Serve ``app`` over HTTPS on ``host:port`` until SIGINT or SIGTERM.

    ``http_port`` (optional) adds a plain-HTTP listener that only redirects to HTTPS; 0
    picks a free port (so does ``port=0``). ``on_started`` is called in the event loop once
    both listeners accept connections. ``log_config`` is uvicorn's (a ``dictConfig``
    dict); None leaves logging as the caller configured it. ``https_socket`` and
    ``http_socket``, bound elsewhere, are served instead of binding ``port`` and
    ``http_port``; ``parent_pid`` names the process whose end stops this server.

    Raises :class:`ConfigurationError` before serving if the certificate or key cannot be
    used or a port cannot be bound.
    """
    service = HttpsService(
        app,
        host=host,
        port=port,
        cert_path=cert_path,
        key_path=key_path,
        http_port=http_port,
        reload_interval=reload_interval,
        access_log=access_log,
        log_config=log_config,
        header_timeout=header_timeout,
        handshake_timeout=handshake_timeout,
        max_connections=max_connections,
        max_connections_per_address=max_connections_per_address,
        https_socket=https_socket,
        http_socket=http_socket,
        parent_pid=parent_pid,
    )
    try:
        with asyncio.Runner(loop_factory=service.loop_factory()) as runner:
            runner.run(service.serve(on_started))
    except KeyboardInterrupt:  # SIGINT, raised again by uvicorn after the graceful stop
        pass


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal capture (:class:`HttpsService` captures
    SIGINT and SIGTERM once, around both listeners), and with a TLS handshake deadline
    (uvicorn's startup does not pass one to asyncio)."""

    def __init__(self, config: uvicorn.Config, handshake_timeout: float) -> None:
        super().__init__(config)
        self.handshake_timeout = handshake_timeout

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's startup for the sockets :class:`HttpsService` binds, with
        ``ssl_handshake_timeout`` given to asyncio."""
        assert sockets is not None
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)
        config = self.config
        loop = asyncio.get_running_loop()

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
                _loop=loop,
            )

        tls: dict[str, Any] = {}
        if config.ssl is not None:
            tls = {"ssl": config.ssl, "ssl_handshake_timeout": self.handshake_timeout}
        self.servers = [
            await loop.create_server(create_protocol, sock=sock, backlog=config.backlog, **tls)
            for sock in sockets
        ]
        self.started = True


class HttpsService:
    """The HTTPS listener, the optional redirect listener and the certificate reloader.

    The certificate is loaded when this object is made (a bad one fails here); ports are
    bound by :meth:`serve`. :meth:`request_stop` may be called from any thread.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str,
        port: int,
        cert_path: Path,
        key_path: Path,
        http_port: int | None = None,
        reload_interval: float = RELOAD_INTERVAL,
        access_log: bool = False,
        log_config: dict[str, Any] | None = None,
        graceful_shutdown_seconds: int = GRACEFUL_SHUTDOWN_SECONDS,
        header_timeout: float = HEADER_TIMEOUT,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        max_connections_per_address: int = MAX_CONNECTIONS_PER_ADDRESS,
        https_socket: socket.socket | None = None,
        http_socket: socket.socket | None = None,
        parent_pid: int | None = None,
    ) -> None:
        if reload_interval <= 0:
            raise ConfigurationError("the certificate reload interval must be positive")
        if header_timeout <= 0 or handshake_timeout <= 0:
            raise ConfigurationError("the header and TLS handshake timeouts must be positive")
        if not 1 <= max_connections_per_address <= max_connections:
            raise ConfigurationError(
                "max_connections_per_address must be between 1 and max_connections"
            )
        self._handshake_timeout = handshake_timeout
        self.max_connections = max_connections
        #: The connections open now, over both listeners.
        self.connections = ConnectionLimits(max_connections, max_connections_per_address)
        self.host = host
        self.reload_interval = reload_interval
        self.reloader = CertificateReloader.open(Path(cert_path), Path(key_path))
        self._requested_ports = (port, http_port)
        self._inherited = (https_socket, http_socket)
        self._parent_pid = parent_pid
        self.https_port: int | None = None
        self.http_port: int | None = None
        self._stop_requested = False
        self._loop: asyncio.AbstractEventLoop | None = None
        context = self.reloader.context

        def use_our_context(
            _config: uvicorn.Config, _default: Callable[[], ssl.SSLContext]
        ) -> ssl.SSLContext:
            return context

        common: dict[str, Any] = {
            "host": host,
            "http": header_deadline_protocol(header_timeout, self.connections),
            "log_config": log_config,
            "access_log": access_log,
            "proxy_headers": False,
            "server_header": False,
            "date_header": True,
            "timeout_graceful_shutdown": graceful_shutdown_seconds,
        }
        self._https = _Server(
            uvicorn.Config(
                SecurityHeaders(app),
                port=port,
                ssl_context_factory=use_our_context,
                lifespan="auto",
                **common,
            ),
            handshake_timeout,
        )
        # The redirect names the HTTPS port; with port=0 it is known only once bound, so
        # the redirect listener is made in serve().
        self._redirect_config_args = {**common, "lifespan": "off"}

    def loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop] | None:
        return self._https.config.get_loop_factory()

    async def serve(self, on_started: Callable[[], None] | None = None) -> None:
        """Serve until :meth:`request_stop`, SIGINT or SIGTERM."""
        raise_file_limit(self.max_connections)
        quiet_accept_failures()
        loop = asyncio.get_running_loop()
        port, http_port = self._requested_ports
        https_socket, http_socket = self._inherited
        sockets = [https_socket or bind_socket(self.host, port)]
        try:
            https_port: int = sockets[0].getsockname()[1]
            self.https_port = https_port
            servers = [self._https]
            if http_socket is not None:
                sockets.append(http_socket)
            elif http_port is not None:
                sockets.append(bind_socket(self.host, http_port))
            if len(sockets) > 1:
                self.http_port = sockets[1].getsockname()[1]
                redirect = uvicorn.Config(
                    https_redirect_app(https_port),
                    port=self.http_port,
                    **self._redirect_config_args,
                )
                servers.append(_Server(redirect, self._handshake_timeout))
            self._loop = loop
            with self._signals(loop):
                results = await asyncio.gather(
                    *(self._listen(srv, sock) for srv, sock in zip(servers, sockets, strict=True)),
                    self._supervise(servers, on_started),
                )
        finally:
            self._loop = None
            for sock in sockets:
                sock.close()
        *exits, failure = results
        for exit_ in exits:
            if exit_ is not None:
                raise ServerFailed(
                    "the HTTPS server could not start: the app's startup failed (see the log)"
                ) from exit_
        if failure is not None:
            raise failure

    async def _listen(self, server: _Server, sock: socket.socket) -> SystemExit | None:
        """Run one listener. uvicorn calls sys.exit() when the app's startup fails: caught
        here, inside the coroutine, so it does not tear through the event loop."""
        try:
            await server.serve(sockets=[sock])
        except SystemExit as e:
            return e
        finally:
            self.request_stop()  # one listener ending ends the other
        return None

    def request_stop(self) -> None:
        """Ask both listeners to stop gracefully (from any thread)."""
        self._stop_requested = True

    def check_certificate(self, *, force: bool = False, timeout: float = 10.0) -> bool:
        """Run the reloader's check in the server's event loop, from another thread."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the server is not running")

        async def check() -> bool:
            return self.reloader.check(force=force)

        return asyncio.run_coroutine_threadsafe(check(), loop).result(timeout)

    async def _supervise(
        self, servers: list[_Server], on_started: Callable[[], None] | None
    ) -> BaseException | None:
        """Announce the start, run the periodic certificate check, and stop every
        listener when one is asked to stop. Returns on_started's exception, if any."""
        loop = asyncio.get_running_loop()
        failure: BaseException | None = None
        announced = False
        next_check = loop.time() + self.reload_interval
        while not self._stop_requested and not any(s.should_exit for s in servers):
            if self._parent_pid is not None and os.getppid() != self._parent_pid:
                logger.warning("the supervisor process has gone: stopping")
                break
            if not announced and all(s.started for s in servers):
                announced = True
                logger.info(
                    "Strongroom serving https://%s:%s", url_host(self.host), self.https_port
                )
                if self.http_port is not None:
                    logger.info(
                        "redirecting http://%s:%s to HTTPS", url_host(self.host), self.http_port
                    )
                if on_started is not None:
                    try:
                        on_started()
                    except Exception as e:
                        failure = e
                        break
            if loop.time() >= next_check:
                next_check = loop.time() + self.reload_interval
                self._check_safely(force=False)
            await asyncio.sleep(_TICK)
        for server in servers:
            server.should_exit = True
        return failure

    def _check_safely(self, *, force: bool) -> None:
        try:
            self.reloader.check(force=force)
        except Exception:
            logger.exception("the TLS certificate check failed; the old certificate stays")

    def _on_sighup(self) -> None:
        logger.info("SIGHUP: reloading the TLS certificate")
        self._check_safely(force=True)

    @contextlib.contextmanager
    def _signals(self, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
        """SIGHUP reloads the certificate; SIGINT and SIGTERM stop (uvicorn's handling).
        Signals can only be handled in the main thread: elsewhere, nothing is installed."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.getsignal(signal.SIGHUP)
        loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
        try:
            with uvicorn.Server.capture_signals(self._https):
                yield
        finally:
            loop.remove_signal_handler(signal.SIGHUP)
            if previous is not None:
                signal.signal(signal.SIGHUP, previous)


class ServerThread:
    """The HTTPS server in a background thread, for tests and embedding::

        with ServerThread(app, cert_path=..., key_path=...) as server:
            httpx.get(server.url + "/health", verify=ca_context)

    ``port=0`` (the default) binds a free port; :attr:`url` names it. ``http_port=0`` adds
    the redirect listener on a free port (:attr:`http_url`). Signals are not handled in a
    thread: call :meth:`reload_certificate` instead of sending SIGHUP.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        cert_path: Path,
        key_path: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        http_port: int | None = None,
        reload_interval: float = RELOAD_INTERVAL,
        startup_timeout: float = 15.0,
        header_timeout: float = HEADER_TIMEOUT,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        max_connections_per_address: int = MAX_CONNECTIONS_PER_ADDRESS,
    ) -> None:
        self.service = HttpsService(
            app,
            host=host,
            port=port,
            cert_path=cert_path,
            key_path=key_path,
            http_port=http_port,
            reload_interval=reload_interval,
            header_timeout=header_timeout,
            handshake_timeout=handshake_timeout,
            max_connections=max_connections,
            max_connections_per_address=max_connections_per_address,
        )
        self._startup_timeout = startup_timeout
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="strongroom-https", daemon=True)

    @property
    def reloader(self) -> CertificateReloader:
        return self.service.reloader

    @property
    def port(self) -> int:
        if self.service.https_port is None:
            raise RuntimeError("the server has not started")
        return self.service.https_port

    @property
    def http_port(self) -> int:
        if self.service.http_port is None:
            raise RuntimeError("no plain-HTTP redirect listener (give http_port)")
        return self.service.http_port

    @property
    def url(self) -> str:
        return f"https://{url_host(self.service.host)}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{url_host(self.service.host)}:{self.http_port}"

    def start(self) -> ServerThread:
        """Start the thread; return once the listeners accept connections."""
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not self._started.wait(0.05):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.service.request_stop()
                self._thread.join(self._startup_timeout)
                raise RuntimeError("the HTTPS server did not start") from self._error
        return self

    def reload_certificate(self, *, force: bool = False) -> bool:
        """Run the certificate check now (in the server's loop); True if reloaded."""
        return self.service.check_certificate(force=force)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop gracefully and wait for the thread; raise what made the server fail."""
        self.service.request_stop()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"the HTTPS server did not stop within {timeout} s")
        if self._error is not None:
            raise RuntimeError("the HTTPS server failed") from self._error

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            with asyncio.Runner(loop_factory=self.service.loop_factory()) as runner:
                runner.run(self.service.serve(self._started.set))
        except BaseException as e:  # reported by start() and stop()
            self._error = e


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not yet listening), or ConfigurationError.
    ``reuse_port``: SO_REUSEPORT, so several sockets of this user listen on one port and
    the kernel spreads new connections over them (api/processes.py)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ConfigurationError(
            f"cannot listen on {url_host(host)}:{port}: {e.strerror or e}"
        ) from None
    return sock


def url_host(host: str) -> str:
    """A host as it stands in a URL (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
