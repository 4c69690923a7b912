"""Text messages, pure: how many parts a text costs, mobile numbers as E.164, quiet hours,
and the reply words (opting out, confirming).

Segments follow GSM 03.38 as carriers count them. A text of GSM-7 characters only fits 160
septets in one message, 153 per part when it is split (the rest carries the concatenation
header); a character of the extension table (^ { } [ ] ~ | \\ € and form feed) takes two
septets, and an escape pair is never split across parts. Any other character makes the whole
text UCS-2: 70 UTF-16 units in one message, 67 per part; a character outside the Basic
Multilingual Plane (most emoji) takes two units, and a surrogate pair is never split.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

import phonenumbers

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
SINGLE = {"gsm7": 160, "ucs2": 70}
PART = {"gsm7": 153, "ucs2": 67}


@dataclass(frozen=True)
class Segments:
    encoding: str  # gsm7 or ucs2
    parts: int  # messages the provider sends (and charges): 0 for an empty text
    units: int  # septets (gsm7) or UTF-16 units (ucs2) in the whole text
    left: int  # units still free in the last part before another part is needed

    def describe(self) -> str:
        """'2 messages, 148 characters left' (characters: units; an emoji uses two)."""
        return f"{self.parts} message{'' if self.parts == 1 else 's'}, {self.left} characters left"


def _cost(ch: str, encoding: str) -> int:
    if encoding == "gsm7":
        return 2 if ch in GSM_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1


def segments(text: str) -> Segments:
    encoding = "gsm7" if all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text) else "ucs2"
    costs = [_cost(ch, encoding) for ch in text]
    units = sum(costs)
    if units == 0:
        return Segments(encoding, 0, 0, SINGLE[encoding])
    if units <= SINGLE[encoding]:
        return Segments(encoding, 1, units, SINGLE[encoding] - units)
    size, parts, used = PART[encoding], 1, 0
    for c in costs:  # fill each part; a two-unit character that does not fit starts the next one
        if used + c > size:
            parts, used = parts + 1, 0
        used += c
    return Segments(encoding, parts, units, size - used)


# -- numbers ---------------------------------------------------------------------------------

MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
                          phonenumbers.PhoneNumberType.PERSONAL_NUMBER})
# Ofcom keeps +44 7700 900000-900999 for drama: never anyone's phone, so the demo and the tests use it
FICTION = re.compile(r"^\+447700900\d{3}$")
_BAD = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class NotAMobile(ValueError):
    """The text is not a mobile number a text message can go to; the message says why."""


def national_forms(e164: str) -> tuple[str, ...]:
    """How reception types a stored number: '+447700900002' as '07700 900002' and '07700900002'."""
    if not e164.startswith("+"):
        return ()
    try:
        national = phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return ()
    return national, national.replace(" ", "")


def shown_mobile(e164: object, region: str) -> str:
    """A stored number as reception reads and types it back: the practice's own country's numbers
    in national form ('+447700900002' with region GB: '07700 900002'), any other country's with
    its code ('+33 6 12 34 56 78'). `normalise_mobile` reads either back to the same number. What
    is not a number (an old record, a typo kept by an import) is shown as stored, and so is what
    is not even text (447700900002 as a JSON number, written by another program)."""
    if not isinstance(e164, str):
        return "" if e164 is None else str(e164)
    return _shown_mobile(e164, str(region))


@functools.lru_cache(maxsize=8192)  # a list of 500 patients is drawn again at each keystroke
def _shown_mobile(e164: str, region: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if not e164.startswith("+") or _BAD.search(e164) or not (FICTION.match(e164) or phonenumbers.is_valid_number(number)):
        return e164
    home = number.country_code == phonenumbers.country_code_for_region((region or "").upper())
    form = phonenumbers.PhoneNumberFormat.NATIONAL if home else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, form)


def normalise_mobile(text: str, region: str) -> str:
    """'07700 900002' (region GB) -> '+447700900002'; anything else raises NotAMobile."""
    if _BAD.search(text) or len(text) > 32:
        raise NotAMobile("has a control, line-break or direction character, or is too long")
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        raise NotAMobile(f"{text!r} is not a phone number") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if FICTION.match(e164):
        return e164
    if not phonenumbers.is_valid_number(number):
        raise NotAMobile(f"{text!r} is not a valid number in {region.upper()} (give it with +country code if it is foreign)")
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise NotAMobile(f"{text!r} is not a mobile number (a landline cannot receive text messages)")
    return e164


# -- quiet hours -------------------------------------------------------------------------------

_SPAN = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$")


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """'20:00-08:00' -> (20:00, 08:00); empty -> None (no quiet hours); else ValueError."""
    if _BAD.search(text):
        raise ValueError("has a control or line-break character")
    text = text.strip()
    if not text:
        return None
    m = _SPAN.match(text)
    if not m or m.group(1, 2) == m.group(3, 4):
        raise ValueError(f"{text[:40]!r} is not a span of time like 20:00-08:00")
    return time(int(m.group(1)), int(m.group(2))), time(int(m.group(3)), int(m.group(4)))


def in_quiet_hours(now: datetime, tz: tzinfo, span: tuple[time, time] | None) -> bool:
    if span is None:
        return False
    start, end = span
    t = now.astimezone(tz).time().replace(tzinfo=None)
    return start <= t < end if start < end else (t >= start or t < end)


def quiet_ends(now: datetime, tz: tzinfo, span: tuple[time, time] | None) -> datetime:
    """`now` when outside quiet hours; else the first minute after they end (practice-local)."""
    t = now
    for _ in range(24 * 60 + 1):  # minute steps: correct across daylight-saving changes
        if not in_quiet_hours(t, tz, span):
            return t
        t = (t + timedelta(minutes=1)).replace(second=0, microsecond=0)
    return t


# -- replies -------------------------------------------------------------------------------------

# the defaults of sms.opt_out_words and sms.confirm_words: the opt-out words are those carriers and
# Twilio themselves honour (the provider refuses further texts to such a number whatever we think)
OPT_OUT_WORDS = "STOP, STOPALL, UNSUBSCRIBE, END, QUIT"
CONFIRM_WORDS = "C, YES, Y, CONFIRM"
OPT_OUT = frozenset(w.strip() for w in OPT_OUT_WORDS.split(","))
MAX_ANSWER = 40  # a longer reply is a sentence, not an answer: read by a person, never acted on
OPT_OUT_REPLY, CONFIRM_REPLY = "opt-out", "confirm"


def reply_word(body: str) -> str:
    """A reply as the one word it may be: its letters, upper-case ('Yes!' -> 'YES', ' stop. ' ->
    'STOP', 'Sí' -> 'SÍ'); "" for a reply longer than MAX_ANSWER characters."""
    if len(body) > MAX_ANSWER:
        return ""
    return "".join(ch for ch in unicodedata.normalize("NFKC", body) if ch.isalpha()).upper()


def parse_words(text: str) -> tuple[str, ...]:
    """'C, yes' -> ('C', 'YES'): words of letters only (a reply is matched by its letters), separated
    by commas or spaces, each at most 20 letters; ValueError naming the first that is not."""
    if _BAD.search(text):
        raise ValueError("has a control or line-break character")
    if len(text) > 400:
        raise ValueError("is too long for a list of reply words")
    words: list[str] = []
    for raw in re.split(r"[,\s]+", text.strip()):
        if not raw:
            continue
        word = unicodedata.normalize("NFKC", raw).upper()
        if not word.isalpha() or len(word) > 20:
            raise ValueError(f"{raw[:30]!r} is not one word of letters")
        if word not in words:
            words.append(word)
    return tuple(words)


def classify_reply(body: str, confirm: Collection[str], opt_out: Collection[str]) -> str:
    """OPT_OUT_REPLY, CONFIRM_REPLY or "" (words to read). Opting out wins when a word is in both."""
    word = reply_word(body)
    if not word:
        return ""
    if word in opt_out:
        return OPT_OUT_REPLY
    return CONFIRM_REPLY if word in confirm else ""


def appointment_to_confirm(coming: Sequence[tuple[str, datetime]], reminded: Mapping[str, datetime]) -> str:
    """Which coming appointment (id, start) a confirmation reply answers: the one whose text reminder
    (for its time as it stands) went last before the reply, since a reply answers the latest text;
    with none reminded, the soonest. "" when none is coming."""
    ids = {aid for aid, _ in coming}
    asked = {aid: at for aid, at in reminded.items() if aid in ids}
    if asked:
        return max(asked, key=lambda aid: (asked[aid], aid))
    return min(coming, key=lambda c: (c[1], c[0]))[0] if coming else ""


def is_opt_out(body: str) -> bool:
    """A reply that is just one of the carriers' opt-out words ('Stop', 'STOP.', ' stop ')."""
    return classify_reply(body, (), OPT_OUT) == OPT_OUT_REPLY
