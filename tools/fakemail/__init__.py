"""The bundled fake mail servers: SMTP, IMAP and POP3 with TLS, auth and faults.

A peer that only speaks the protocols: nothing here imports `engine`.
"""

from tools.fakemail.faults import Fault, Faults
from tools.fakemail.mailstore import User
from tools.fakemail.server import FakeMail

__all__ = ["FakeMail", "Fault", "Faults", "User"]
