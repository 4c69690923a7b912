"""A practice pointed at the fake servers, for integration tests."""

from __future__ import annotations

from pathlib import Path

from engine.core.message import Draft, Recipient
from engine.service.practice import Practice
from tools.fakemail import FakeMail


def configure(practice: Practice, fm: FakeMail, listener: str = "submission") -> None:
    user = fm.user()
    practice.settings.set_many({
        "practice.name": "Bright Smile Dental", "practice.email": user.address,
        "account.username": user.username, "account.password": user.password,
        "outgoing.host": "localhost", "outgoing.port": str(fm.ports["smtp"][listener]),
        "outgoing.security": {"submission": "starttls", "smtps": "implicit", "plain": "auto"}[listener],
        "tls.ca_file": str(fm.ca_file), "incoming.enabled": "false",
    })


def configure_incoming(practice: Practice, fm: FakeMail, protocol: str = "imap", implicit: bool = True,
                       leave_on_server: bool = True) -> None:
    ports = fm.ports[protocol]
    practice.settings.set_many({
        "incoming.enabled": "true", "incoming.protocol": protocol, "incoming.host": "localhost",
        "incoming.port": str(ports["imaps" if protocol == "imap" else "pop3s"] if implicit else ports["plain"]),
        "incoming.security": "implicit" if implicit else "starttls",
        "incoming.leave_on_server": "true" if leave_on_server else "false",
    })


def draft(to: str = "pat@example.com", subject: str = "Your appointment", text: str = "See you soon.") -> Draft:
    return Draft(from_address="practice@example.test", from_name="Bright Smile Dental", to=[Recipient(to)],
                 subject=subject, text=text)


def open_practice(folder: Path) -> Practice:
    return Practice(folder, writer=True, command="test")
