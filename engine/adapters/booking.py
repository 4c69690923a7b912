"""Online booking links: another system must finish a link before an email carrying it
may go. The provider interface, and its HTTP form (the bundled fake one speaks it):

    POST {url}/links  {"appointment_id": ..., "patient_id": ...}  -> {"token": ...}
    GET  {url}/links/{token}                                      -> {"status": "pending"|"ready"|"failed", "url": ...}

Requests go through the practice's proxy when one is set (engine/adapters/proxy.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import requests

from engine.adapters.proxy import Proxy, http_session
from engine.errors import MailServerError, ProxyFailed, ServerRejected, ServerUnreachable


@dataclass(frozen=True)
class LinkState:
    status: str  # pending, ready, failed
    url: str = ""


class LinkProvider(Protocol):
    def request(self, appointment_id: str, patient_id: str) -> str: ...

    def state(self, token: str) -> LinkState: ...


class HttpLinkProvider:
    def __init__(self, base_url: str, timeout: float = 10.0, proxy: Proxy | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.proxy = proxy

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:  # type: ignore[type-arg]
        try:
            with http_session(self.proxy) as web:
                reply = web.request(method, self.base + path, json=body, timeout=self.timeout)
            if reply.status_code >= 400:
                raise ServerRejected(f"the booking-link provider answered {reply.status_code}", reply.status_code,
                                     reply.reason or "",
                                     hint="The booking system is having trouble; reset the item to try again.")
            return dict(reply.json() if reply.content else {})
        except ProxyFailed:
            raise  # the proxy's own words and hint
        except (requests.RequestException, OSError, ValueError, TypeError) as exc:
            raise ServerUnreachable(f"the booking-link provider could not be reached: {exc}",
                                    hint="Check booking.provider_url and that the booking system is running.") from exc

    def request(self, appointment_id: str, patient_id: str) -> str:
        return str(self._call("POST", "/links", {"appointment_id": appointment_id, "patient_id": patient_id})["token"])

    def state(self, token: str) -> LinkState:
        doc = self._call("GET", f"/links/{token}")
        return LinkState(str(doc.get("status", "pending")), str(doc.get("url") or ""))


__all__ = ["HttpLinkProvider", "LinkProvider", "LinkState", "MailServerError"]
