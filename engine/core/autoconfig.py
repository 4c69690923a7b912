"""What a domain's Mozilla-format autoconfig document says about its mail servers, and which
sign-in preset that suggests. Pure: the document comes in as bytes (engine/adapters/autoconfig.py
fetches it).

The format is Thunderbird's (`clientConfig/emailProvider`, with `incomingServer` and
`outgoingServer` entries carrying hostname, port, socketType and authentication). A practice on
its own domain at Microsoft 365 or Google Workspace is recognised by the servers it names, never
by the domain's name; the result is only ever shown as a suggestion.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

MAX_DOCUMENT = 64 * 1024  # a real one is a few KB; anything larger is not read
_MICROSOFT = ("office365.com", "outlook.com", "office.com")
_GOOGLE = ("gmail.com", "googlemail.com", "google.com")


@dataclass(frozen=True)
class Server:
    kind: str  # imap, pop3, smtp
    host: str
    port: int
    security: str  # SSL, STARTTLS, plain (the document's socketType)
    oauth: bool  # the document says OAuth2 for it


@dataclass(frozen=True)
class Proposal:
    preset: str  # microsoft, google, or "" (servers known, no preset)
    servers: tuple[Server, ...]


def _host_is(host: str, suffixes: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == s or host.endswith("." + s) for s in suffixes)


def parse(document: bytes) -> Proposal | None:
    """The servers a document names and the preset they point to; None if it is not one."""
    if len(document) > MAX_DOCUMENT or b"<!ENTITY" in document or b"<!DOCTYPE" in document:
        return None  # entities are never needed here, and are how XML is made to explode
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        return None
    provider = root.find("emailProvider")
    if root.tag != "clientConfig" or provider is None:
        return None
    servers = []
    for node in [*provider.findall("incomingServer"), *provider.findall("outgoingServer")]:
        host = (node.findtext("hostname") or "").strip()
        try:
            port = int((node.findtext("port") or "").strip())
        except ValueError:
            continue
        if not host or not 0 < port < 65536:
            continue
        auth = {(a.text or "").strip().lower() for a in node.findall("authentication")}
        servers.append(Server(node.get("type", "").lower(), host, port,
                              (node.findtext("socketType") or "").strip(), "oauth2" in auth))
    if not servers:
        return None
    hosts = [s.host for s in servers]
    if all(_host_is(h, _MICROSOFT) for h in hosts):
        preset = "microsoft"
    elif all(_host_is(h, _GOOGLE) for h in hosts):
        preset = "google"
    else:
        preset = ""
    return Proposal(preset, tuple(servers))
