"""The SMS provider: one interface, the Twilio Messages API behind it, and "none".

Why Twilio's shape: it is the most widely used SMS REST API (form-encoded POST to
/2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP Basic with the Account SID and Auth
Token, JSON back, Twilio's error codes), and most other providers offer a compatible or
near one. Why httpx and not the `twilio` SDK: the SDK's generated domain classes fix the
host (https://api.twilio.com, or an edge/region of twilio.com), so it cannot be pointed at
the bundled fake without rewriting its URLs underneath it, and it brings aiohttp with it;
httpx is a well-kept client with timeouts, TLS verification against our CA file, and proxy
support in one place: the practice's proxy (issue 18) is the shared one (engine/adapters/proxy.py,
the same settings as the mail, sign-in and booking-link traffic), handed to httpx as its URL.
The provider's host name goes to the proxy unresolved (httpx's SOCKS5 sends it as a domain name,
the "socks5h" behaviour; an HTTP proxy is asked by name): a practice behind a proxy often cannot
look up outside names itself (tests/integration/test_proxy_names.py).

Library exceptions become engine errors here (engine/errors.py); nothing the provider says
reaches a person without being made one clean line.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from engine.adapters.http_cut import Cuttable, cuttable_transport
from engine.adapters.proxy import Proxy
from engine.core.outside import outside_line, outside_text
from engine.errors import SmsAccountRefused, SmsNotSetUp, SmsRefused, SmsUnreachable

API = "/2010-04-01/Accounts"


def _whole(value: Any, default: int | None) -> int | None:
    """A provider's number field (num_segments, error_code): a small whole number, else `default`.
    Its text may be anything ("²" is a digit to str.isdigit and not to int; 5,000 digits are more
    than int() reads): an odd field must never fail a send the provider has taken, which would
    send the text again at every pass."""
    text = outside_line(value, 12)
    return int(text) if text.isascii() and text.isdigit() else default


def _clean(text: Any, limit: int = 200) -> str:
    """What the provider said, as one safe line (engine/core/outside.py, the untrusted-text door)."""
    return outside_line(text, limit)


@dataclass(frozen=True)
class SmsSettings:
    provider: str  # none, twilio
    account: str
    secret: str = field(repr=False)  # never in a log line, a traceback's locals or an error report
    sender: str
    api_url: str
    ca_file: str = ""
    timeout: float = 20.0
    proxy: Proxy | None = None  # the practice's proxy (engine/adapters/proxy.py), or None: direct


@dataclass(frozen=True)
class Accepted:
    sid: str
    status: str
    parts: int


@dataclass(frozen=True)
class Delivery:
    sid: str
    status: str  # queued, sending, sent, delivered, undelivered, failed (the provider's words)
    error_code: int | None
    error_message: str

    @property
    def final(self) -> bool:
        return self.status in ("delivered", "undelivered", "failed")


@dataclass(frozen=True)
class Incoming:
    sid: str
    from_number: str
    to_number: str
    body: str
    received: datetime


@dataclass(frozen=True)
class Balance:
    amount: str
    currency: str


class SmsProvider(Protocol):
    name: str

    def send(self, to: str, text: str) -> Accepted: ...
    def status(self, sid: str) -> Delivery: ...
    def incoming(self) -> list[Incoming]: ...
    def balance(self) -> Balance: ...
    def abort(self) -> None: ...
    def close(self) -> None: ...


class NoProvider:
    """sms.provider = none: every call says how to set it up."""

    name = "none"

    def _refuse(self, *_: Any) -> Any:
        raise SmsNotSetUp("no SMS provider is set up")

    send = status = incoming = balance = _refuse

    def abort(self) -> None:
        pass

    def close(self) -> None:
        pass


class TwilioProvider:
    name = "twilio"

    def __init__(self, s: SmsSettings, transport: httpx.BaseTransport | None = None) -> None:
        if not (s.account and s.secret and s.sender):
            raise SmsNotSetUp("the SMS account ID, secret or sender is not set")
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=s.ca_file) if s.ca_file else True
        self.settings = s
        self._base = f"{API}/{quote(s.account, safe='')}"
        proxy = s.proxy.url() if s.proxy is not None else None
        self._cuts: Cuttable | None = None
        if transport is None:  # httpx's own, whose connections `abort` can cut (the service's stop)
            transport, self._cuts = cuttable_transport(verify=verify, proxy=proxy, trust_env=False)
            proxy = None  # the transport goes through it
        self._client = httpx.Client(base_url=s.api_url.rstrip("/"), auth=(s.account, s.secret), timeout=s.timeout,
                                    verify=verify, transport=transport, trust_env=False, proxy=proxy,
                                    headers={"User-Agent": "practicemail"})

    def abort(self) -> None:
        """From another thread (the service's stop): a call waiting for the provider fails now,
        not at its timeout (the provider may still have taken the text: it is sent again, once)."""
        if self._cuts is not None:
            self._cuts.cut()

    def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        cuts = self._cuts.cuts if self._cuts is not None else 0
        try:
            r = self._client.request(method, f"{self._base}/{path}", **kw)
        except httpx.HTTPError as exc:
            if self._cuts is not None and self._cuts.cuts != cuts:
                raise SmsUnreachable("the service stopped before the SMS provider answered",
                                     hint="It is sent again at the next send; the patient may get it twice.") from None
            raise self._failed(exc) from None
        return self._answer(r)

    def _failed(self, exc: httpx.HTTPError) -> SmsUnreachable:
        if isinstance(exc, httpx.ProxyError):
            return self._proxy_failed(exc)
        if isinstance(exc, httpx.TimeoutException):
            return SmsUnreachable("the SMS provider did not answer in time")
        if isinstance(exc, httpx.ConnectError) and self.settings.proxy is not None:  # the first hop: the proxy
            return self._proxy_failed(exc)
        return SmsUnreachable(f"could not reach the SMS provider: {_clean(exc)}")

    def _answer(self, r: httpx.Response) -> dict[str, Any]:
        try:
            doc = r.json()
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or (r.status_code >= 400 and "code" not in doc and "message" not in doc):
            raise SmsUnreachable(f"the SMS provider answered {r.status_code} with something that is not its API",
                                 hint="Check sms.api_url; if it is right, the provider may be down.")
        code = doc.get("code") if isinstance(doc.get("code"), int) else None
        said = _clean(doc.get("message"))
        if r.status_code == 401:
            raise SmsAccountRefused(f"the SMS provider refused the account: {said or 'not authorised'}")
        if r.status_code == 429 or r.status_code >= 500:
            raise SmsUnreachable(f"the SMS provider is busy or failing ({r.status_code}{f', error {code}' if code else ''}"
                                 f"): {said}")
        if r.status_code >= 400:
            raise SmsRefused(f"the SMS provider refused: {said} (error {code})", code=code)
        return doc

    def _proxy_failed(self, exc: Exception) -> SmsUnreachable:
        proxy = self.settings.proxy
        assert proxy is not None
        where = proxy.where  # HOST:PORT, never the password
        said = _clean(exc)
        for secret in {proxy.password, quote(proxy.password, safe="")} - {""}:
            said = said.replace(secret, "***")  # should httpx ever quote the proxy's URL
        return SmsUnreachable(f"the proxy at {where} refused or could not be reached: {said}",
                              hint=f"Check the proxy settings (proxy.address, proxy.port, proxy.kind, proxy.user) "
                                   f"and that the proxy at {where} is running.")

    def send(self, to: str, text: str) -> Accepted:
        doc = self._call("POST", "Messages.json", data={"To": to, "From": self.settings.sender, "Body": text})
        return Accepted(_clean(doc.get("sid"), 64), _clean(doc.get("status"), 20),
                        _whole(doc.get("num_segments"), 1) or 1)

    def status(self, sid: str) -> Delivery:
        doc = self._call("GET", f"Messages/{quote(sid, safe='')}.json")
        return Delivery(sid, _clean(doc.get("status"), 20), _whole(doc.get("error_code"), None) or None,
                        _clean(doc.get("error_message")))

    def incoming(self) -> list[Incoming]:
        doc = self._call("GET", "Messages.json", params={"To": self.settings.sender, "PageSize": "1000"})
        out = []
        for m in doc.get("messages") or []:
            if not isinstance(m, dict) or not str(m.get("direction", "")).startswith("inbound"):
                continue
            try:
                when = parsedate_to_datetime(str(m.get("date_sent") or m.get("date_created")))
            except (TypeError, ValueError):
                when = datetime.now(timezone.utc)
            out.append(Incoming(_clean(m.get("sid"), 64), _clean(m.get("from"), 32), _clean(m.get("to"), 32),
                                outside_text(str(m.get("body") or ""))[:1600], when))
        return out

    def balance(self) -> Balance:
        doc = self._call("GET", "Balance.json")
        return Balance(_clean(doc.get("balance"), 20), _clean(doc.get("currency"), 8))

    def close(self) -> None:
        self._client.close()


def provider_for(s: SmsSettings) -> SmsProvider:
    return TwilioProvider(s) if s.provider == "twilio" else NoProvider()
