"""The settings catalogue: every key of the contract, its type, default and rule.

Pure: `parse(key, text)` turns what a person typed into a typed value or raises
SettingsInvalid naming the key; `check(values)` finds problems that span keys.
(Time zone names are looked up in the tz database shipped with Python: that is
reference data, like a table, not practice I/O.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from engine.core.addresses import is_valid_address
from engine.core.periods import PeriodSyntaxError, parse_check_times, parse_periods
from engine.core.sms import CONFIRM_WORDS, OPT_OUT_WORDS, parse_quiet_hours, parse_words
from engine.errors import Problem, SettingsInvalid

_TRUE = {"true", "yes", "on", "1", "y"}
_FALSE = {"false", "no", "off", "0", "n"}
REGIONS = tuple(sorted(r.lower() for r in phonenumbers.SUPPORTED_REGIONS))  # ISO codes with numbering plans
_CODE = re.compile(r"^[A-Z0-9_-]{1,32}$")
_HOST = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[?[0-9A-Fa-f:.]+\]?$")


@dataclass(frozen=True)
class Setting:
    key: str
    kind: str  # text, secret, bool, auth, int, choice, timezone, email, host, port, periods, times, code, path, span, words
    default: Any
    description: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    optional: bool = True  # may be empty (None / "")

    @property
    def secret(self) -> bool:
        return self.kind == "secret"


def _s(key: str, kind: str, default: Any, description: str, **kw: Any) -> Setting:
    return Setting(key, kind, default, description, **kw)


CATALOGUE: tuple[Setting, ...] = (
    _s("practice.name", "text", "", "The practice's name, shown in emails"),
    _s("practice.email", "email", "", "The practice's address: the From of every email"),
    _s("practice.phone", "text", "", "Phone number for templates and invitations"),
    _s("practice.address", "text", "", "Postal address for templates and invitations"),
    _s("practice.timezone", "timezone", "Europe/London", "IANA time zone of the practice", optional=False),
    _s("account.username", "text", "", "User name for the mail account"),
    _s("account.password", "secret", "", "Password for the mail account (stored encrypted)"),
    _s("incoming.enabled", "bool", True, "Receive email", optional=False),
    _s("incoming.protocol", "choice", "pop3", "How mail is received", choices=("pop3", "imap"), optional=False),
    _s("incoming.host", "host", "", "Incoming mail server"),
    _s("incoming.port", "port", None, "Incoming port (995 POP3, 993 IMAP; 110/143 use STARTTLS)"),
    _s("incoming.leave_on_server", "bool", True, "POP3: keep a copy on the server", optional=False),
    _s("incoming.security", "choice", "auto", "auto: decided by the port (993/995 TLS, 143/110 STARTTLS); or implicit, starttls",
       choices=("auto", "implicit", "starttls"), optional=False),
    _s("outgoing.host", "host", "", "Outgoing (SMTP) server"),
    _s("outgoing.port", "port", 587, "Outgoing port (587 STARTTLS, 465 implicit TLS)", optional=False),
    _s("outgoing.starttls", "bool", True, "Port 25 only: upgrade to TLS", optional=False),
    _s("outgoing.auth", "auth", True, "Log in to the outgoing server: true/password, false, or oauth2 (sign in)",
       optional=False),
    _s("incoming.auth", "choice", "password", "How to log in to the incoming server: password or oauth2 (sign in)",
       choices=("password", "oauth2"), optional=False),
    _s("oauth.provider", "choice", "", "Who signs the account in: microsoft, google or custom (oauth.issuer)",
       choices=("microsoft", "google", "custom")),
    _s("oauth.client_id", "text", "", "The application (client) id registered with the provider"),
    _s("oauth.tenant", "text", "", "Microsoft 365: the organisation's tenant id or domain (empty: organizations)"),
    _s("oauth.issuer", "text", "", "Custom provider: its issuer address (https://...), read by discovery"),
    _s("oauth.client_secret", "secret", "", "The client secret, if the provider issued one (stored encrypted)"),
    _s("oauth.scopes", "text", "", "Scopes to ask for, space separated (empty: the provider's preset)"),
    _s("outgoing.security", "choice", "auto", "auto: decided by the port (465 TLS, 587 STARTTLS); or implicit, starttls",
       choices=("auto", "implicit", "starttls"), optional=False),
    _s("tls.ca_file", "path", "", "Extra trusted certificate authorities (PEM)"),
    _s("setup.allow_without_account", "bool", False, "Allow setup to finish without account details", optional=False),
    _s("kiosk.font_size", "int", 0, "The kiosk's text size in points; 0: the computer's own", minimum=0, maximum=32),
    _s("kiosk.high_contrast", "bool", False, "The kiosk in high contrast (light text on black, yellow selection)",
       optional=False),
    _s("schedule.send_immediately", "bool", False, "Send and receive automatically inside periods", optional=False),
    _s("schedule.periods", "periods", "Mon-Fri 08:00-18:00", "When automatic work may run"),
    _s("schedule.check_every_minutes", "int", 15, "Check for mail every N minutes", minimum=1, maximum=1440),
    _s("schedule.check_times", "times", "", "Also check at these times, e.g. 12:30,17:45"),
    _s("pacing.enabled", "bool", False, "Limit automatic sends per minute", optional=False),
    _s("pacing.per_minute", "int", 40, "Automatic sends per minute at most", minimum=1, maximum=100000, optional=False),
    _s("reminders.confirmation_template", "code", "", "Template for appointment confirmations"),
    _s("reminders.new_patient_template", "code", "", "Template for the welcome email"),
    _s("reminders.cancellation_template", "code", "", "Template for cancellations"),
    _s("reminders.sms_template", "code", "", "Template for a reminder sent as a text instead of an email "
       "(no address, or it bounced)"),
    _s("reminders.confirmation_delay_minutes", "int", 10, "Hold confirmations this long", minimum=0, maximum=99, optional=False),
    _s("reminders.prompt_before_send", "bool", True, "Ask before a confirmation is sent", optional=False),
    _s("reminders.include_ical", "bool", True, "Attach a calendar invitation", optional=False),
    _s("reminders.alarm_minutes", "int", 60, "Calendar alarm before the appointment; empty: none", minimum=0, maximum=40320),
    _s("signature.template", "code", "", "Template appended as the signature"),
    _s("attachments.image_max_pixels", "int", 1600, "Images are scaled down to this longest side when asked",
       minimum=200, maximum=20000, optional=False),
    _s("attachments.warn_megabytes", "int", 10, "Warn before queueing attachments larger than this in total",
       minimum=1, maximum=100, optional=False),
    _s("booking.provider_url", "text", "", "Online booking-link provider (http://...); empty: none"),
    # recalls and text messages (issue 18)
    _s("recalls.template", "code", "", "Template for recall messages"),
    _s("recalls.per_hour", "int", 60, "Recall messages per hour at most (staggered through the periods)",
       minimum=1, maximum=10000, optional=False),
    _s("practice.country", "choice", "gb", "The practice's country (ISO code): mobile numbers without +code are read as its",
       choices=REGIONS, optional=False),
    _s("sms.provider", "choice", "none", "Text-message provider: none, or twilio (its Messages API)",
       choices=("none", "twilio"), optional=False),
    _s("sms.account", "text", "", "The provider's account (practice) ID, e.g. a Twilio Account SID"),
    _s("sms.secret", "secret", "", "The provider's secret, e.g. a Twilio Auth Token (stored encrypted)"),
    _s("sms.sender", "text", "", "Sender number (E.164) or sender ID the texts come from"),
    _s("sms.api_url", "text", "https://api.twilio.com", "The provider's API address (a test server's, in tests)",
       optional=False),
    _s("sms.quiet_hours", "span", "20:00-08:00", "No automatic texts in these practice-local hours; empty: none"),
    _s("sms.per_minute", "int", "", "Automatic texts per minute at most, counted apart from emails; empty: not paced",
       minimum=1, maximum=100000),
    _s("sms.max_segments", "int", 3, "The most parts one text may have", minimum=1, maximum=10, optional=False),
    _s("sms.confirm_words", "words", CONFIRM_WORDS, "A reply of just one of these words confirms the patient's "
       "next appointment; empty: none does"),
    _s("sms.opt_out_words", "words", OPT_OUT_WORDS, "A reply of just one of these words opts the patient out of "
       "all messages", optional=False),
    _s("proxy.address", "host", "", "Proxy server the practice reaches the internet through; empty: none"),
    _s("proxy.port", "port", None, "The proxy's port"),
    _s("proxy.kind", "choice", "http", "http (CONNECT) or socks5", choices=("http", "socks5"), optional=False),
    _s("proxy.user", "text", "", "User name for the proxy, if it asks"),
    _s("proxy.password", "secret", "", "Password for the proxy (stored encrypted)"),
    _s("proxy.use_for_email", "bool", False, "Send and receive email through the proxy too (texts, sign-in and "
       "booking links always use it when set)", optional=False),
    _s("support.address", "email", "", "Where the diagnostic bundle is emailed"),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in CATALOGUE}
DEFAULT_PORTS = {"pop3": 995, "imap": 993}


def setting(key: str) -> Setting:
    try:
        return BY_KEY[key]
    except KeyError:
        close = [k for k in BY_KEY if k.split(".")[-1] == key.split(".")[-1]]
        hint = f"Did you mean {close[0]}?" if close else "`config show` lists every key."
        raise SettingsInvalid(key, "no such setting", hint) from None


def _fail(s: Setting, message: str, hint: str) -> SettingsInvalid:
    return SettingsInvalid(s.key, message, hint)


def parse(key: str, raw: Any) -> Any:
    """What a person typed (or a JSON value) -> the typed value; or SettingsInvalid. Empty and
    multi-line values are refused alike for every kind; the rest is the kind's (_PARSERS)."""
    s = setting(key)
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        if not s.optional:
            raise _fail(s, "a value is required", f"Give a value; the default is {s.default!r}.")
        return None if s.kind in ("int", "port") else ""
    if isinstance(raw, str) and any(ch in raw for ch in "\r\n\x00"):
        raise _fail(s, "line breaks and control characters are not allowed", "Type the value on one line.")
    return _PARSERS[s.kind](s, raw)


def _bool(s: Setting, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    t = str(raw).strip().lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise _fail(s, f"{raw!r} is not yes or no", "Use true or false.")


def _auth(s: Setting, raw: Any) -> bool | str:
    """A bool before OAuth: true/false still mean what they meant."""
    text = str(raw).strip().lower()
    if isinstance(raw, bool) or text in _TRUE | _FALSE:
        return raw if isinstance(raw, bool) else text in _TRUE
    if text in ("password", "oauth2"):
        return True if text == "password" else "oauth2"
    raise _fail(s, f"{raw!r} is not true, false, password or oauth2", "Use password, oauth2 or false.")


def _whole_number(s: Setting, raw: Any) -> int:
    """int and port (1-65535) within the setting's own bounds; a bool is no number."""
    if isinstance(raw, bool):
        raise _fail(s, f"{raw!r} is not a whole number", "Use a whole number.")
    try:
        n = int(str(raw).strip())
    except ValueError:
        raise _fail(s, f"{raw!r} is not a whole number", "Use a whole number, like 15.") from None
    lo, hi = (1, 65535) if s.kind == "port" else (s.minimum, s.maximum)
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise _fail(s, f"{n} is out of range", f"Use a number from {lo} to {hi}.")
    return n


def _choice(s: Setting, raw: Any) -> str:
    text = str(raw).strip()
    if text.lower() not in s.choices and len(s.choices) > 8:  # a country: too many to list
        raise _fail(s, f"{text[:40]!r} is not a known code", "Use a two-letter ISO country code, like gb or ie.")
    if text.lower() not in s.choices:
        raise _fail(s, f"{text!r} is not one of {', '.join(s.choices)}", f"Use {' or '.join(s.choices)}.")
    return text.lower()


def _timezone(s: Setting, raw: Any) -> str:
    text = str(raw).strip()
    try:
        if text.startswith("/") or ".." in text:
            raise ValueError
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(s, f"{text!r} is not a known time zone", "Use an IANA name like Europe/London.") from None
    return text


def _email(s: Setting, raw: Any) -> str:
    text = str(raw).strip()
    if not is_valid_address(text):
        raise _fail(s, f"{text!r} is not an email address", "Use an address like reception@smile-dental.co.uk.")
    return text


def _host(s: Setting, raw: Any) -> str:
    text = str(raw).strip()
    if not _HOST.match(text):
        raise _fail(s, f"{text!r} is not a server name", "Use a name like mail.example.com, without http:// or a port.")
    return text.lower()


def _periods(s: Setting, raw: Any) -> str:
    text = str(raw).strip()
    try:
        parse_periods(text)
    except PeriodSyntaxError as exc:
        raise _fail(s, str(exc), "Write periods like 'Mon-Fri 08:00-18:00; Sat 09:00-12:00'.") from None
    return text


def _times(s: Setting, raw: Any) -> str:
    try:
        times = parse_check_times(str(raw).strip())
    except PeriodSyntaxError as exc:
        raise _fail(s, str(exc), "Write times like 12:30,17:45.") from None
    return ",".join(f"{t:%H:%M}" for t in times)


def _code(s: Setting, raw: Any) -> str:
    text = str(raw).strip()
    if not _CODE.match(text):
        raise _fail(s, f"{text!r} is not a template code", "Codes use A-Z, 0-9, _ and - (up to 32).")
    return text


def _free_text(s: Setting, raw: Any) -> str:
    """text, secret and path: any one line up to 1,000 characters; a secret kept as typed."""
    text = str(raw).strip()
    if len(text) > 1000:
        raise _fail(s, "the value is too long", "Keep it under 1,000 characters.")
    return str(raw) if s.kind == "secret" else text


def _text_message_kind(s: Setting, text: str) -> str:
    """sms.quiet_hours (a span) and the reply words, checked by the text-message rules."""
    try:
        if s.kind == "words":
            return ", ".join(parse_words(text))
        parse_quiet_hours(text)
        return text
    except ValueError as exc:
        hint = "Write words of letters separated by commas, like C, YES." if s.kind == "words" else \
            "Write a span like 20:00-08:00, or leave it empty."
        raise _fail(s, str(exc), hint) from None


# each kind of the catalogue: its parser (after parse's checks for empty and multi-line values)
_PARSERS: dict[str, Callable[[Setting, Any], Any]] = {
    "bool": _bool, "auth": _auth, "int": _whole_number, "port": _whole_number, "choice": _choice,
    "timezone": _timezone, "email": _email, "host": _host, "periods": _periods, "times": _times,
    "span": lambda s, raw: _text_message_kind(s, str(raw).strip()),
    "words": lambda s, raw: _text_message_kind(s, str(raw).strip()),
    "code": _code, "text": _free_text, "secret": _free_text, "path": _free_text,
}


def defaults() -> dict[str, Any]:
    return {s.key: s.default for s in CATALOGUE}


def effective(values: Mapping[str, Any]) -> dict[str, Any]:
    """Stored values over defaults, with the derived incoming port filled in."""
    out = defaults()
    out.update({k: v for k, v in values.items() if k in BY_KEY})
    if out["incoming.port"] in (None, ""):
        out["incoming.port"] = DEFAULT_PORTS[out["incoming.protocol"]]
    return out


def check(values: Mapping[str, Any], template_exists: Callable[[str], bool] | None = None) -> list[Problem]:
    """Problems across the whole settings, each as (key, message + hint)."""
    v = effective(values)
    problems: list[Problem] = []

    def add(key: str, message: str) -> None:
        problems.append(Problem(None, key, message))

    for key, value in v.items():
        try:
            parse(key, value)
        except SettingsInvalid as exc:
            add(key, f"{exc.message} ({exc.hint})")
    need_account = not v["setup.allow_without_account"]
    if need_account:
        if not v["practice.email"]:
            add("practice.email", "not set: emails need a From address (set the practice's email address)")
        if not v["outgoing.host"]:
            add("outgoing.host", "not set: nothing can be sent (set the outgoing mail server)")
        if v["incoming.enabled"] and not v["incoming.host"]:
            add("incoming.host", "not set: nothing can be received (set the incoming server, or turn incoming off)")
        if v["outgoing.auth"] and not v["account.username"]:
            add("account.username", "not set but outgoing authentication is on (enter the account's user name)")
        if v["outgoing.auth"] is True and not v["account.password"]:
            add("account.password", "not set but outgoing authentication is on (enter the account's password)")
        if "oauth2" in (v["outgoing.auth"], v["incoming.auth"] if v["incoming.enabled"] else None):
            if not v["oauth.provider"]:
                add("oauth.provider", "not set but sign-in (oauth2) is chosen (microsoft, google or custom)")
            if not v["oauth.client_id"]:
                add("oauth.client_id", "not set but sign-in (oauth2) is chosen (the app's client id)")
            if v["oauth.provider"] == "custom" and not str(v["oauth.issuer"]).startswith(("https://", "http://")):
                add("oauth.issuer", "a custom provider needs its issuer address (https://...)")
    port, proto = v["incoming.port"], v["incoming.protocol"]
    if v["incoming.enabled"] and proto == "imap" and port in (995, 110):
        add("incoming.port", f"port {port} is a POP3 port but the protocol is IMAP (use 993)")
    if v["incoming.enabled"] and proto == "pop3" and port in (993, 143):
        add("incoming.port", f"port {port} is an IMAP port but the protocol is POP3 (use 995)")
    if v["outgoing.port"] in (993, 995, 110, 143):
        add("outgoing.port", f"port {v['outgoing.port']} is for incoming mail (use 587 or 465)")
    if v["outgoing.port"] == 25 and v["outgoing.auth"] and not v["outgoing.starttls"]:
        add("outgoing.starttls", "port 25 without STARTTLS would send the password unencrypted (turn STARTTLS on)")
    if v["schedule.send_immediately"] and not v["schedule.periods"]:
        add("schedule.periods", "automatic sending is on but no periods are set, so nothing will ever run (add a period)")
    if (v["schedule.send_immediately"] and v["incoming.enabled"]
            and v["schedule.check_every_minutes"] in (None, "") and not v["schedule.check_times"]):
        add("schedule.check_every_minutes", "automatic mode never checks for mail (set minutes or check times)")
    both = _words(v["sms.confirm_words"]) & _words(v["sms.opt_out_words"])
    if both:
        add("sms.confirm_words", f"{', '.join(sorted(both))} is also an opt-out word: such a reply opts the patient "
            "out (take it out of one of the two lists)")
    if template_exists is not None:
        for key in ("reminders.confirmation_template", "reminders.new_patient_template",
                    "reminders.cancellation_template", "reminders.sms_template", "signature.template",
                    "recalls.template"):
            code = v[key]
            if code and not template_exists(code):
                add(key, f"template {code!r} does not exist (add it, or choose another)")
    return problems


def _words(text: Any) -> set[str]:
    try:
        return set(parse_words(str(text or "")))
    except ValueError:
        return set()  # named by the parse check above
