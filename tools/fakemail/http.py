"""Small HTTP endpoints on the same loop: an SMS gateway, a booking-link provider,
and the control panel testers use to switch faults while the servers run.

    GET  /sms/balance            {"credits": n}
    POST /sms/messages           {"to": "+44...", "text": "..."} -> 201 {"id": "..."}; costs a credit
    GET  /sms/messages           what was accepted
    POST /links                  {"appointment_id": "..."} -> 201 {"token": "..."} (pending)
    GET  /links/<token>          {"status": "pending"|"ready"|"failed", "url": ...}
    POST /links/<token>/finish   make it ready (what the other system does)
    GET  /faults  POST /faults  DELETE /faults
    GET  /transcript?protocol=smtp
    POST /mailboxes/<user>/uidvalidity   change a mailbox's UIDVALIDITY
    /.well-known/..., /oauth/...         the OAuth authorization server (tools/fakemail/oauth.py)
    /2010-04-01/Accounts/...     the Twilio-shaped SMS provider (tools/fakemail/smsapi.py)
    /sms-control/...             its test controls: reply, outcome, messages
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from dataclasses import asdict
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from tools.fakemail.faults import Faults, until_closed
from tools.fakemail.oauth import OAuthServer, parse_form
from tools.fakemail.smsapi import HANG, PREFIX as SMSAPI, SmsApi

REASONS = {200: "OK", 201: "Created", 302: "Found", 400: "Bad Request", 401: "Unauthorized",
           402: "Payment Required", 404: "Not Found", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class HttpApp:
    def __init__(self, faults: Faults, change_uidvalidity: Callable[[str], int], credits: int = 100,
                 oauth: OAuthServer | None = None) -> None:
        self.faults = faults
        self.oauth = oauth
        self.change_uidvalidity = change_uidvalidity
        self.credits = credits
        self.sms: list[dict[str, Any]] = []
        self.links: dict[str, dict[str, Any]] = {}
        self.smsapi = SmsApi(faults)

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["sms-control"]:
            return self.smsapi.control(method, parts[1:], body)
        if parts[:1] == ["sms"]:
            fault = self.faults.take("http", "sms")
            if fault is not None and fault.action == "reply":
                return fault.code or 503, {"error": fault.text or "gateway unavailable"}
            if parts == ["sms", "balance"] and method == "GET":
                return 200, {"credits": self.credits}
            if parts == ["sms", "messages"] and method == "GET":
                return 200, self.sms
            if parts == ["sms", "messages"] and method == "POST":
                if not isinstance(body, dict) or not body.get("to") or not body.get("text"):
                    return 400, {"error": "to and text are required"}
                if self.credits <= 0:
                    return 402, {"error": "no credits left"}
                self.credits -= 1
                msg = {"id": secrets.token_hex(6), "to": body["to"], "text": body["text"]}
                self.sms.append(msg)
                return 201, {"id": msg["id"]}
        if parts[:1] == ["links"]:
            fault = self.faults.take("http", "link")
            if fault is not None and fault.action == "reply":
                return fault.code or 503, {"error": fault.text or "link provider unavailable"}
            if parts == ["links"] and method == "POST":
                token = secrets.token_urlsafe(8)
                self.links[token] = {"status": "pending", "url": None, "request": body}
                return 201, {"token": token}
            if len(parts) >= 2 and parts[1] in self.links:
                link = self.links[parts[1]]
                if len(parts) == 3 and parts[2] == "finish" and method == "POST":
                    link.update(status="ready", url=f"https://book.example.test/{parts[1]}")
                if len(parts) == 3 and parts[2] == "fail" and method == "POST":
                    link.update(status="failed")
                return 200, {"status": link["status"], "url": link["url"]}
            return 404, {"error": "no such link"}
        if parts == ["faults"]:
            if method == "GET":
                return 200, self.faults.list()
            if method == "DELETE":
                self.faults.clear(query.get("protocol", [None])[0])
                return 200, self.faults.list()
            if method == "POST":
                try:
                    self.faults.add(**body)
                except (TypeError, ValueError) as exc:
                    return 400, {"error": str(exc)}
                return 201, self.faults.list()
        if parts == ["transcript"] and method == "GET":
            proto = query.get("protocol", [None])[0]
            return 200, [asdict(e) for e in list(self.faults.transcript) if proto in (None, e.protocol)]
        if len(parts) == 3 and parts[0] == "mailboxes" and parts[2] == "uidvalidity" and method == "POST":
            return 200, {"uidvalidity": self.change_uidvalidity(parts[1])}
        return 404, {"error": f"no route {method} {path}"}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers: dict[str, str] = {}
        extra: dict[str, str] = {"Content-Type": "application/json"}
        try:
            request = await reader.readline()
            method, target, _ = request.decode("latin-1").split(" ", 2)
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            raw = await reader.readexactly(length) if length else b""
            url = urlsplit(target)
            if self.oauth is not None and url.path.startswith(("/oauth/", "/.well-known/")):
                form = parse_form(raw, headers.get("content-type", ""))
                _client_from_basic(headers.get("authorization", ""), form)
                self.faults.record("http", 0, "in", f"{method} {url.path}")  # never the query or body: secrets
                status, extra, payload = await self.oauth.handle(method.upper(), url.path, parse_qs(url.query), form)
            elif url.path.startswith(SMSAPI):  # form-encoded, authenticated: the provider's own shape
                status, doc = self.smsapi.handle(method.upper(), url.path, parse_qs(url.query), raw, headers)
                if status == HANG:  # carried out, and never answered: until the client goes away
                    await until_closed(reader)
                    writer.close()
                    return
                payload = json.dumps(doc).encode()
            else:
                body = json.loads(raw) if raw else None
                status, doc = self.route(method.upper(), url.path, parse_qs(url.query), body)
                payload = json.dumps(doc).encode()
        except (ValueError, asyncio.IncompleteReadError) as exc:
            status, payload = 400, json.dumps({"error": str(exc)}).encode()
            extra = {"Content-Type": "application/json"}
        head = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
        writer.write(f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n{head}"
                     f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload)
        try:
            await writer.drain()
        finally:
            writer.close()


def _client_from_basic(authorization: str, form: dict[str, str]) -> None:
    """client_secret_basic: the client id from the Authorization header, as if it were in the form."""
    if authorization.lower().startswith("basic ") and "client_id" not in form:
        try:
            form["client_id"] = base64.b64decode(authorization[6:]).decode("utf-8").partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            pass
