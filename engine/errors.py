"""Every error practicemail raises on purpose.

Errors are named for what a person can act on, not for the library that failed.
Library exceptions (smtplib, imapclient, poplib, OSError, json) become one of these
in `engine/adapters`, never further up. Each carries a `hint`: one sentence a
receptionist or practice manager can act on.
"""

from __future__ import annotations

from dataclasses import dataclass


class PracticeMailError(Exception):
    """Root of every practicemail error."""

    default_hint = "Try again; if it keeps happening, export diagnostics for support."

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, str]:
        return {"error": self.message, "hint": self.hint, "kind": type(self).__name__}


# --- the mail servers -------------------------------------------------------


class MailServerError(PracticeMailError):
    """Something between us and a mail server went wrong."""


class AuthenticationRefused(MailServerError):
    default_hint = "The server refused the user name or password: check them in the setup wizard."


class TlsFailed(MailServerError):
    default_hint = (
        "The secure connection failed: check the server name and port, "
        "and that the server's certificate is trusted."
    )


class ServerUnreachable(MailServerError):
    default_hint = "The mail server could not be reached: check the server name, port and internet connection."


class ServerTimeout(ServerUnreachable):
    default_hint = "The mail server stopped answering: it may be busy; the message will be tried again."


class ProxyFailed(ServerUnreachable):
    """The practice's proxy (proxy.* settings) could not be reached, refused the login, or would
    not connect onwards: the mail server itself was never reached."""

    default_hint = "Check the proxy settings (proxy.address, proxy.port, proxy.kind, proxy.user, proxy.password)."


class ServerRejected(MailServerError):
    """The server answered with an error code; `code` and its own words are kept."""

    default_hint = "The mail server refused this; its own words are shown."

    def __init__(self, message: str, code: int, server_text: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.code = code
        self.server_text = server_text

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600

    def as_dict(self) -> dict[str, str]:
        d = super().as_dict()
        d["code"] = str(self.code)
        return d


class AddressNotSendable(PracticeMailError):
    """An address cannot go to this server (not the server failing). A recipient's: that item
    fails and the pass goes on. The practice's own (`sender`): no item can go, as with a login."""

    default_hint = "Check the recipient's email address."

    def __init__(self, message: str, hint: str | None = None, sender: bool = False) -> None:
        super().__init__(message, hint)
        self.sender = sender


# --- settings, data, input --------------------------------------------------


class SettingsInvalid(PracticeMailError):
    default_hint = "Correct the value and try again."

    def __init__(self, key: str, message: str, hint: str | None = None) -> None:
        super().__init__(f"{key}: {message}", hint)
        self.key = key


class StoreLocked(PracticeMailError):
    default_hint = "Close the other practicemail program (or stop the service), or use another data folder."


class ServiceUnavailable(PracticeMailError):
    """A desk asked the email service (on another computer) and none runs, or it did not answer."""

    default_hint = "Check the light: if the service is stopped, start it on the server (practicemail serve)."


class ServiceCommandFailed(PracticeMailError):
    """The email service tried what another desk asked and it failed; its words and hint are kept."""


class ReadOnly(PracticeMailError):
    """A command asked of a program that opened the data folder only to read."""

    default_hint = "Do it where the email service runs (the kiosk or `practicemail serve`)."


class StoreCorrupt(PracticeMailError):
    default_hint = "A data file could not be read; restore it from the backup or contact support."


class NotFound(PracticeMailError):
    default_hint = "Check the id; `list` commands show what exists."


@dataclass(frozen=True)
class Problem:
    """One problem in a file a person gave us: where, and what."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return (", ".join(where) + ": " if where else "") + self.message


class InputInvalid(PracticeMailError):
    """A file or argument a person gave us is wrong; nothing was changed."""

    default_hint = "Correct the rows named and run the command again; nothing was imported."

    def __init__(self, message: str, problems: list[Problem] | None = None, hint: str | None = None) -> None:
        self.problems = list(problems or [])
        detail = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"{message}: {detail}{more}" if detail else message, hint)


class TemplateInvalid(InputInvalid):
    default_hint = "Fix the template at the line named; only fields from the merge-field list are allowed."

    def __init__(self, message: str, problems: list[Problem] | None = None, hint: str | None = None) -> None:
        super().__init__(message, problems, hint)
        if self.problems:
            detail = "; ".join(template_problem(p) for p in self.problems[:5])
            self.message = f"{message}: {detail}"
            self.args = (self.message,)


def template_problem(p: Problem) -> str:
    """A template problem as a person reads it: 'body line 2: ...'."""
    where = " ".join(x for x in (p.column or "", f"line {p.row}" if p.row is not None else "") if x)
    return f"{where}: {p.message}" if where else p.message


class RuleRefused(PracticeMailError):
    """A confidentiality or sending rule said no; `rule` names it in plain words."""

    default_hint = "Remove the recipient or attachment the rule names."

    def __init__(self, rule: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.rule = rule


# --- text messages (issue 18) ---------------------------------------------------


class SmsProviderError(PracticeMailError):
    """Something between us and the text-message provider went wrong."""

    default_hint = "The text-message provider could not be reached; texts are tried again later."


class SmsNotSetUp(SmsProviderError):
    default_hint = "Choose an SMS provider and enter its account ID, secret and sender number in the SMS settings."


class SmsAccountRefused(SmsProviderError):
    default_hint = "The SMS provider refused the account ID or secret: check them in the SMS settings."


class SmsUnreachable(SmsProviderError):
    """The provider did not answer, answered 429 (too many) or 5xx: worth trying again."""


class SmsRefused(SmsProviderError):
    """The provider refused this one message (a bad number, no credit): its own code and words are kept."""

    default_hint = "The SMS provider refused this text; its own words are shown. Check the patient's mobile number."

    def __init__(self, message: str, code: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.code = code
