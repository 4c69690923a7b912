"""Receiving, by its old address: the names the service layer imports, from where they now
live. imap.py talks IMAP (imapclient), pop3.py talks POP3 (poplib), wire.py reads what both
servers send without a socket, connection.py holds what every protocol shares (credentials,
TLS, ports). New code may import from those directly.
"""

from __future__ import annotations

from engine.adapters.connection import IMPLICIT, STARTTLS, IncomingSettings, incoming_mode
from engine.adapters.imap import FETCH_BYTES, FETCH_CHUNK, SMALL, ImapMailbox, plan_fetches
from engine.adapters.pop3 import Pop3Mailbox
from engine.adapters.wire import read_multiline

__all__ = ["FETCH_BYTES", "FETCH_CHUNK", "IMPLICIT", "SMALL", "STARTTLS", "ImapMailbox", "IncomingSettings",
           "Pop3Mailbox", "incoming_mode", "plan_fetches", "read_multiline"]
