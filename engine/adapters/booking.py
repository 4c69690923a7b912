"""Online booking links: another system must finish a link before an email carrying it
may go. The provider interface, and its HTTP form (the bundled fake one speaks it):

    POST {url}/links  {"appointment_id": ..., "patient_id": ...}  -> {"token": ...}
    GET  {url}/links/{token}                                      -> {"status": "pending"|"ready"|"failed", "url": ...}
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from engine.errors import MailServerError, ServerRejected, ServerUnreachable


@dataclass(frozen=True)
class LinkState:
    status: str  # pending, ready, failed
    url: str = ""


class LinkProvider(Protocol):
    def request(self, appointment_id: str, patient_id: str) -> str: ...

    def state(self, token: str) -> LinkState: ...


class HttpLinkProvider:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:  # type: ignore[type-arg]
        req = urllib.request.Request(self.base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:  # noqa: S310 - the practice's own setting
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise ServerRejected(f"the booking-link provider answered {exc.code}", exc.code, str(exc.reason),
                                 hint="The booking system is having trouble; reset the item to try again.") from exc
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise ServerUnreachable(f"the booking-link provider could not be reached: {exc}",
                                    hint="Check booking.provider_url and that the booking system is running.") from exc

    def request(self, appointment_id: str, patient_id: str) -> str:
        return str(self._call("POST", "/links", {"appointment_id": appointment_id, "patient_id": patient_id})["token"])

    def state(self, token: str) -> LinkState:
        doc = self._call("GET", f"/links/{token}")
        return LinkState(str(doc.get("status", "pending")), str(doc.get("url") or ""))


__all__ = ["HttpLinkProvider", "LinkProvider", "LinkState", "MailServerError"]
