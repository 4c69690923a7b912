"""FakeMail: every listener on one asyncio loop in a background thread.

    with FakeMail() as fm:            # start() returns when every listener is ready
        fm.info()                     # ports, CA file, users, spool (the contract's JSON)
        fm.deliver("practice", raw)   # a message into a user's mailbox
        fm.wait_for_sent(3, timeout=5)
        fm.faults.add("smtp", "rcpt", "reply", code=550)

`stop()` is safe from any thread and returns promptly whatever clients do.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import ssl
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tools.fakemail import imap, pop3, smtp
from tools.fakemail.faults import Faults
from tools.fakemail.http import HttpApp
from tools.fakemail.smsapi import SmsApi
from tools.fakemail.mailstore import MailStore, User, maildir_deliver
from tools.fakemail.oauth import OAuthServer
from tools.fakemail.tls import Certificates, make_certificates

LISTENERS = (("smtp", "submission"), ("smtp", "smtps"), ("smtp", "plain"), ("imap", "imaps"), ("imap", "plain"),
             ("pop3", "pop3s"), ("pop3", "plain"), ("http", "control"))


def default_users() -> list[User]:
    return [User("practice@example.test", "practice", secrets.token_urlsafe(12))]


class FakeMail:
    def __init__(self, spool: Path | str | None = None, users: list[User] | None = None, host: str = "127.0.0.1",
                 seed: int | None = None) -> None:
        self._own_spool = spool is None
        self.spool = Path(spool) if spool is not None else Path(tempfile.mkdtemp(prefix="fakemail-"))
        self.spool.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.users = users if users is not None else default_users()
        self.faults = Faults(seed=seed)
        self.store = MailStore(self.spool, self.users)
        self.oauth = OAuthServer(self.store, self.faults)
        self.certs: Certificates | None = None
        self.ports: dict[str, dict[str, int]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.base_events.Server] = []
        self._transports: set[asyncio.BaseTransport] = set()
        self.http: HttpApp | None = None

    # -- TLS with the switchable "untrusted certificate" fault ---------------------------
    def _context(self, protocol: str) -> ssl.SSLContext:
        assert self.certs is not None
        ctx = self.certs.server_context(trusted=True)
        untrusted = self.certs.server_context(trusted=False)

        def sni(sslobj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
            if self.faults.take(protocol, "tls") is not None:
                sslobj.context = untrusted

        ctx.sni_callback = sni
        return ctx

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> "FakeMail":
        self.certs = make_certificates(self.spool / ".tls")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._start_servers())
            except BaseException as exc:  # reported to start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._shutdown())
                loop.close()

        self._thread = threading.Thread(target=run, name="fakemail", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("fakemail did not start in time")
        if failure:
            raise failure[0]
        return self

    def _track(self, handler: Any) -> Any:
        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            transport = writer.transport
            self._transports.add(transport)
            try:
                await handler(reader, writer)
            finally:
                self._transports.discard(transport)

        return tracked

    async def _start_servers(self) -> None:
        loop = asyncio.get_running_loop()
        tls = {p: self._context(p) for p in ("smtp", "imap", "pop3")}
        for protocol, listener in LISTENERS:
            if protocol == "smtp":
                factory = smtp.protocol_factory(self.store, self.faults, listener, tls["smtp"], loop, self.oauth)

                def tracked_factory(factory: Any = factory) -> Any:
                    proto = factory()
                    original = proto.connection_made

                    def made(transport: asyncio.BaseTransport, _orig: Any = original) -> None:
                        self._transports.add(transport)
                        _orig(transport)

                    proto.connection_made = made
                    return proto

                if listener == "smtps":  # TLS after the connect faults, as for IMAP and POP3
                    server = await loop.create_server(
                        lambda f=tracked_factory: smtp.ImplicitTls(f, self.faults, tls["smtp"], loop, self._transports),
                        self.host, 0)
                else:
                    server = await loop.create_server(tracked_factory, self.host, 0)
            elif protocol == "imap":
                cfg = imap.ImapConfig(self.store, self.faults, tls["imap"], implicit_tls=listener == "imaps",
                                      oauth=self.oauth)
                # implicit TLS is started by the session itself, after the connect faults
                server = await asyncio.start_server(self._track(imap.make_handler(cfg)), self.host, 0)
            elif protocol == "pop3":
                if not hasattr(self, "_pop3_locks"):
                    self._pop3_locks: set[str] = set()
                cfg3 = pop3.Pop3Config(self.store, self.faults, tls["pop3"], implicit_tls=listener == "pop3s",
                                       locked=self._pop3_locks, oauth=self.oauth)
                server = await asyncio.start_server(self._track(pop3.make_handler(cfg3)), self.host, 0)
            else:
                self.http = HttpApp(self.faults, self._change_uidvalidity_on_loop, oauth=self.oauth)
                server = await asyncio.start_server(self._track(self.http.handle), self.host, 0)
                self.oauth.issuer = f"http://{self.host}:{server.sockets[0].getsockname()[1]}"
            self._servers.append(server)
            port = server.sockets[0].getsockname()[1]
            self.ports.setdefault(protocol, {})[listener] = port

    async def _shutdown(self) -> None:
        for server in self._servers:
            server.close()
        for transport in list(self._transports):
            transport.abort()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
        self._loop = self._thread = None
        if self._own_spool:
            shutil.rmtree(self.spool, ignore_errors=True)

    def __enter__(self) -> "FakeMail":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests and testers use ---------------------------------------------------------
    def info(self) -> dict[str, Any]:
        assert self.certs is not None
        return {
            "host": self.host,
            "smtp": dict(self.ports["smtp"]),
            "imap": dict(self.ports["imap"]),
            "pop3": dict(self.ports["pop3"]),
            "http": self.ports["http"]["control"],
            "issuer": self.oauth.issuer,
            "ca_file": str(self.certs.ca_file),
            "users": [{"address": u.address, "username": u.username, "password": u.password} for u in self.users],
            "spool": str(self.spool),
            "sms": self.sms.info(f"http://{self.host}:{self.ports['http']['control']}"),
        }

    @property
    def sms(self) -> SmsApi:
        """The Twilio-shaped SMS provider (tools/fakemail/smsapi.py): its controls for tests."""
        assert self.http is not None
        return self.http.smsapi

    @property
    def ca_file(self) -> Path:
        assert self.certs is not None
        return self.certs.ca_file

    def user(self, username: str | None = None) -> User:
        return self.users[0] if username is None else self.store.users[username]

    def deliver(self, username: str, data: bytes) -> Path:
        """Put a message into a user's mailbox (safe from any thread)."""
        if username not in self.store.users:
            raise KeyError(f"no user {username!r}")
        return maildir_deliver(self.spool / username, data)

    def sent(self) -> list[dict[str, Any]]:
        """What SMTP accepted, oldest first: mail_from, rcpt_tos, path, and data (read now)."""
        with self.store.changed:
            entries = list(self.store.accepted)
        return [self.store.read_accepted(e) for e in entries]

    def wait_for_sent(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until SMTP has accepted at least `count` messages (no polling sleeps)."""
        deadline = time.monotonic() + timeout
        with self.store.changed:
            while len(self.store.accepted) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"only {len(self.store.accepted)} of {count} messages arrived")
                self.store.changed.wait(left)
            entries = list(self.store.accepted)
        return [self.store.read_accepted(e) for e in entries]

    def _call(self, fn: Any, *args: Any) -> Any:
        assert self._loop is not None

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def _change_uidvalidity_on_loop(self, username: str) -> int:
        return self.store.mailbox(username).change_uidvalidity()

    def change_uidvalidity(self, username: str) -> int:
        return self._call(self._change_uidvalidity_on_loop, username)

    def mailbox_names(self, username: str) -> list[str]:
        def names() -> list[str]:
            box = self.store.mailbox(username)
            box.refresh()
            return [m.name for m in box.messages]

        return self._call(names)
