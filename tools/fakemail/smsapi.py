"""A fake SMS provider speaking the subset of Twilio's REST API (2010-04-01) practicemail uses.

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json     form: To, From, Body -> 201 message
    GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json                       -> message
    GET  /2010-04-01/Accounts/{AccountSid}/Messages.json?To=&DateSent>=           -> {"messages": [...]}
    GET  /2010-04-01/Accounts/{AccountSid}/Balance.json                  -> {"balance", "currency"}

HTTP Basic authentication with the Account SID and Auth Token; errors are Twilio's JSON shape
{"code", "message", "more_info", "status"}. A sent message is `queued`; the first status read
moves it to its outcome (`delivered`, or the failure set for its number with `outcome`).
Controls for tests (also over HTTP, JSON, under /sms-control/): `deliver_reply` (a patient
texts back), `outcome` (how a number's messages end), `messages`, `garbled` (fields put over
every message the API answers with, such as a `num_segments` that is not a number). Faults: protocol http, step
sms, action reply with a code (429 throttles, 401 refuses, 5xx fails), or action hang: the request is
carried out (a text is taken and charged) and its answer never comes, until the client closes the
connection (a provider whose answer is lost). Depends on no engine code.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
from datetime import datetime, timezone
from decimal import Decimal
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

from tools.fakemail.faults import Faults

PREFIX = "/2010-04-01/Accounts/"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
PRICE = Decimal("0.04")  # per part
HANG = 0  # the status `handle` gives for a request whose answer never comes (a `hang` fault)
ERRORS = {401: (20003, "Authenticate"), 404: (20404, "The requested resource was not found"),
          429: (20429, "Too Many Requests"), 500: (20500, "Internal Server Error"),
          503: (20503, "Service Unavailable")}


def _parts(body: str) -> int:
    """A rough count (the fake charges by it): 160/153 if ASCII, else 70/67."""
    single, part = (160, 153) if body.isascii() else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // part)


def error(status: int, code: int | None = None, message: str = "") -> tuple[int, dict[str, Any]]:
    known = ERRORS.get(status, (status * 100, "Error"))
    code = code or known[0]
    return status, {"code": code, "message": message or known[1], "status": status,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}"}


class SmsApi:
    def __init__(self, faults: Faults, balance: Decimal = Decimal("10.00")) -> None:
        self.faults = faults
        self.account_sid = "AC" + secrets.token_hex(16)
        self.auth_token = secrets.token_hex(16)
        self.number = "+447700900999"  # Ofcom's drama range: nobody's phone
        self.balance = balance
        self._lock = threading.Condition()
        self._messages: list[dict[str, Any]] = []
        self._outcomes: dict[str, tuple[str, int | None, str | None]] = {}
        self.listings = 0  # how often the message list was read (a client checking for replies)
        self.garbled: dict[str, Any] = {}  # fields put over every message answer: a provider answering oddly

    # -- controls for tests ------------------------------------------------------------------
    def info(self, base_url: str) -> dict[str, str]:
        return {"account_sid": self.account_sid, "auth_token": self.auth_token, "number": self.number,
                "base_url": base_url}

    def deliver_reply(self, from_number: str, body: str, to: str | None = None) -> str:
        """A patient texts back: an inbound message appears in the account's list."""
        msg = self._message(from_number, to or self.number, body, "inbound", "received")
        with self._lock:
            self._messages.append(msg)
        return msg["sid"]

    def outcome(self, to: str, status: str = "failed", error_code: int | None = 30003,
                error_message: str | None = "Unreachable destination handset") -> None:
        with self._lock:
            self._outcomes[to] = (status, error_code, error_message)

    def messages(self, direction: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._messages if direction is None or m["direction"].startswith(direction)]

    def wait_for_sent(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until the API has accepted at least `count` outbound texts (no polling sleeps)."""
        with self._lock:
            if not self._lock.wait_for(lambda: sum(m["direction"] == "outbound-api" for m in self._messages) >= count,
                                       timeout):
                raise TimeoutError(f"fewer than {count} texts arrived")
            return [dict(m) for m in self._messages if m["direction"] == "outbound-api"]

    def wait_for_listings(self, count: int, timeout: float = 10.0) -> None:
        """Block until a client has read the message list `count` times (checked for replies)."""
        with self._lock:
            if not self._lock.wait_for(lambda: self.listings >= count, timeout):
                raise TimeoutError(f"the message list was read {self.listings} times, not {count}")

    def control(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        """/sms-control/reply {"from", "body"}; /sms-control/outcome {"to", ...}; /sms-control/messages;
        /sms-control/balance {"balance": "100.00"} (top up, for benchmarks)."""
        if parts == ["reply"] and method == "POST" and isinstance(body, dict):
            return 201, {"sid": self.deliver_reply(str(body.get("from", "")), str(body.get("body", "")))}
        if parts == ["outcome"] and method == "POST" and isinstance(body, dict):
            self.outcome(str(body.get("to", "")), str(body.get("status", "failed")), body.get("error_code", 30003),
                         body.get("error_message", "Unreachable destination handset"))
            return 200, {"ok": True}
        if parts == ["messages"] and method == "GET":
            return 200, self.messages()
        if parts == ["balance"] and method == "POST" and isinstance(body, dict):
            with self._lock:
                self.balance = Decimal(str(body.get("balance", "10.00")))
            return 200, {"balance": f"{self.balance:.2f}"}
        return 404, {"error": "no such control"}

    # -- the API -------------------------------------------------------------------------------
    def _message(self, from_: str, to: str, body: str, direction: str, status: str) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        sid = "SM" + secrets.token_hex(16)
        return {"sid": sid, "account_sid": self.account_sid, "from": from_, "to": to, "body": body,
                "status": status, "direction": direction, "num_segments": str(_parts(body)),
                "date_created": format_datetime(now), "date_sent": format_datetime(now), "error_code": None,
                "error_message": None, "price": None, "price_unit": "GBP",
                "uri": f"{PREFIX}{self.account_sid}/Messages/{sid}.json"}

    def _authorised(self, headers: dict[str, str]) -> bool:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.account_sid) and secrets.compare_digest(password, self.auth_token)

    def handle(self, method: str, path: str, query: dict[str, list[str]], raw: bytes,
               headers: dict[str, str]) -> tuple[int, Any]:
        fault = self.faults.take("http", "sms")
        if fault is not None and fault.action == "reply":
            return error(fault.code or 503, message=fault.text)
        if fault is not None and fault.action == "hang":  # the request is done, its answer never comes
            self._answer(method, path, query, raw, headers)
            return HANG, None
        return self._answer(method, path, query, raw, headers)

    def _answer(self, method: str, path: str, query: dict[str, list[str]], raw: bytes,
                headers: dict[str, str]) -> tuple[int, Any]:
        if not self._authorised(headers):
            return error(401)
        rest = path[len(PREFIX):].split("/")
        if not rest or rest[0] != self.account_sid:
            return error(404)
        rest = rest[1:]
        if rest == ["Balance.json"] and method == "GET":
            with self._lock:
                return 200, {"account_sid": self.account_sid, "balance": f"{self.balance:.2f}", "currency": "GBP"}
        if rest == ["Messages.json"] and method == "POST":
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
            return self._send(form)
        if rest == ["Messages.json"] and method == "GET":
            to = query.get("To", [None])[0]
            with self._lock:
                self.listings += 1
                self._lock.notify_all()
                found = [dict(m) for m in self._messages if to is None or m["to"] == to]
            return 200, {"messages": found[::-1], "next_page_uri": None, "page": 0, "page_size": len(found)}
        if len(rest) == 2 and rest[0] == "Messages" and rest[1].endswith(".json") and method == "GET":
            return self._status(rest[1][:-5])
        return error(404)

    def _send(self, form: dict[str, str]) -> tuple[int, Any]:
        to, from_, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if not E164.match(to):
            return error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if from_ != self.number:
            return error(400, 21606, f"The From phone number {from_} is not a valid, SMS-capable inbound phone "
                                     "number or short code for your account.")
        if not body:
            return error(400, 21602, "Message body is required.")
        msg = self._message(from_, to, body, "outbound-api", "queued")
        cost = PRICE * int(msg["num_segments"])
        with self._lock:
            if self.balance < cost:
                return error(400, 20005, "Account not active: the balance is too low to send.")
            self.balance -= cost
            self._messages.append(msg)
            self._lock.notify_all()
        return 201, {**msg, **self.garbled}

    def _status(self, sid: str) -> tuple[int, Any]:
        with self._lock:
            msg = next((m for m in self._messages if m["sid"] == sid), None)
            if msg is None:
                return error(404)
            if msg["status"] == "queued":
                status, code, text = self._outcomes.get(msg["to"], ("delivered", None, None))
                msg.update(status=status, error_code=code, error_message=text)
                if status == "delivered":
                    msg["price"] = f"-{PRICE * int(msg['num_segments'])}"
            return 200, {**msg, **self.garbled}
