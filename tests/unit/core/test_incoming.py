from __future__ import annotations

from hypothesis import given, strategies as st

from engine.core import incoming
from tests.conftest import ROOT


def test_every_hostile_file_gives_facts_and_content_without_raising() -> None:
    for f in sorted((ROOT / "fixtures" / "hostile").glob("*.eml")):
        raw = f.read_bytes()
        facts = incoming.facts(raw)
        assert len(facts.subject) <= incoming.MAX_HEADER and "\n" not in facts.subject
        incoming.content(raw)


def test_encoded_words_in_any_charset() -> None:
    f = incoming.facts(b"From: =?utf-8?q?Zo=C3=AB?= <zoe@x.test>\r\nSubject: =?iso-8859-1?q?Caf=E9?=\r\n\r\n")
    assert (f.from_name, f.from_address, f.subject) == ("Zoë", "zoe@x.test", "Café")


def _storable(f: incoming.Facts) -> None:
    """Every text field can be written as UTF-8 (a surrogate in one stops the store's write)."""
    for value in (f.from_address, f.from_name, f.subject, f.message_id, *f.in_reply_to, *f.references, *f.problems):
        value.encode("utf-8")


@given(st.binary(max_size=3000))
def test_facts_never_raise_on_any_bytes(raw: bytes) -> None:
    for quick in (True, False):
        _storable(incoming.facts(raw, quick))
    incoming.content(raw)


@given(st.sampled_from(["utf-8", "x-unknown", "unknown-8bit", "iso-8859-1", "shift_jis"]),
       st.sampled_from(["q", "b"]), st.binary(min_size=1, max_size=20))
def test_a_name_in_an_unknown_or_broken_charset_is_still_storable(charset: str, how: str, data: bytes) -> None:
    import base64

    word = base64.b64encode(data) if how == "b" else b"".join(b"=%02X" % c for c in data)
    raw = b"From: =?" + charset.encode() + b"?" + how.encode() + b"?" + word + b"?= <a@example.org>\r\n\r\n"
    f = incoming.facts(raw)
    _storable(f)
    assert f.from_address == "a@example.org"


@given(st.text(max_size=200))
def test_safe_filename_has_no_path_or_control_characters(name: str) -> None:
    safe = incoming.safe_filename(name)
    assert safe and "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert all(ord(c) >= 32 and c != "\x7f" for c in safe) and len(safe) <= 120


# -- the quick header reading gives what the email package gives -----------------------
_names = st.sampled_from(["From", "from", "Subject", "Message-ID", "In-Reply-To", "References", "Date",
                          "Auto-Submitted", "Precedence", "X-Autoreply", "To", "X-Other"])
_ascii_value = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
_word = st.text(alphabet="abcXYZ019'-.é", min_size=1, max_size=8)
_addr = st.builds(lambda a, b: f"{a}@{b}.test", st.text(alphabet="ab.c_+-1", min_size=1, max_size=8),
                  st.text(alphabet="ab-c1", min_size=1, max_size=6))
_from = st.one_of(
    _addr,
    st.builds(lambda ws, a, sp: f"{' '.join(ws)}{sp}<{a}>", st.lists(_word, min_size=1, max_size=3), _addr,
              st.sampled_from(["", " ", "  ", "\t"])),
    _ascii_value,
)


@given(st.lists(st.tuples(_names, st.one_of(_from, _ascii_value),
                          st.sampled_from(["", "\r\n  more", "\n\tfolded =?utf-8?q?Zo=C3=AB?="])), max_size=8),
       st.sampled_from([b"\r\n", b"\n"]), st.binary(max_size=40))
def test_quick_header_reading_agrees_with_the_email_package(fields: list[tuple[str, str, str]], nl: bytes,
                                                           body: bytes) -> None:
    block = nl.join(f"{n}: {v}{fold}".encode("utf-8") for n, v, fold in fields)
    raw = block + nl + nl + body
    assert incoming.facts(raw) == incoming.facts(raw, quick=False)


@given(_from)
def test_quick_from_reading_agrees_with_parseaddr(value: str) -> None:
    assert incoming._address(value) == incoming._address(value, quick=False)


def test_every_hostile_and_demo_file_reads_the_same_quick_or_not() -> None:
    for f in sorted((ROOT / "fixtures").rglob("*.eml")):
        raw = f.read_bytes()
        assert incoming.facts(raw) == incoming.facts(raw, quick=False), f.name


# -- issue 14, finding 4: the address is parsed before the name is decoded -----------------
def test_outlooks_encoded_name_with_a_comma_keeps_the_address() -> None:
    """Outlook's B-encoded "O'Neill-Żółć, Evan": the comma is inside the encoded word."""
    raw = b"From: =?utf-8?b?TydOZWlsbC3Fu8OzxYLEhywgRXZhbg==?= <evan@example.org>\r\nSubject: x\r\n\r\nhi\r\n"
    for quick in (True, False):
        f = incoming.facts(raw, quick)
        assert (f.from_address, f.from_name) == ("evan@example.org", "O'Neill-Żółć, Evan")


def test_a_name_that_decodes_to_an_address_is_only_a_name() -> None:
    for header in (b"=?utf-8?b?RXZhbiA8Ym9iQGV4YW1wbGUub3JnPg==?= <evan@example.org>",
                   b"=?utf-8?q?Evan_<bob@example.org>?= <evan@example.org>",
                   b'"Evan <bob@example.org>" <evan@example.org>'):
        for quick in (True, False):
            f = incoming.facts(b"From: " + header + b"\r\n\r\nhi\r\n", quick)
            assert f.from_address == "evan@example.org", header
            assert f.from_name == "Evan <bob@example.org>", header


_any_name = st.text(max_size=60)
_local = st.from_regex(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\.[A-Za-z0-9_+-]{1,10}){0,2}", fullmatch=True)
_domain = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){1,3}", fullmatch=True)
_any_address = st.one_of(st.builds(lambda a, b: f"{a}@{b}", _local, _domain), st.emails())


def _encodings(name: str, address: str) -> list[str]:
    """The ways the standard library writes a From header for (name, address)."""
    import email.header
    import email.utils
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.policy import SMTP

    out = [email.utils.formataddr((name, address), charset="utf-8"),
           email.header.Header(name, "utf-8").encode() + f" <{address}>"]  # always an encoded word
    if "\r" not in name and "\n" not in name:
        local, _, domain = address.rpartition("@")
        msg = EmailMessage(policy=SMTP)
        msg["From"] = Address(name, local, domain)
        out.append(bytes(msg).decode("ascii").partition(":")[2].strip())
    return [v for v in out if "\r" not in v.replace("\r\n ", "").replace("\n ", "")
            and "\n" not in v.replace("\r\n ", "").replace("\n ", "")]


@given(_any_name, _any_address)
def test_parsing_gives_back_the_address_whatever_the_name(name: str, address: str) -> None:
    """Filing never goes to an address that is only in the name."""
    for value in _encodings(name, address):
        value = value.replace("\r\n", "\n").replace("\n", "\r\n")
        for quick in (True, False):
            f = incoming.facts(f"From: {value}\r\nSubject: s\r\n\r\nbody\r\n".encode("utf-8"), quick)
            assert f.from_address == address, (value, f)
            assert "\r" not in f.from_name and "\n" not in f.from_name


# -- issue 14, finding 5: RFC 6532 headers and unencoded UTF-8 parameters --------------------
def test_raw_utf8_headers_read_as_utf8() -> None:
    raw = "From: Zoë Ørsted <zoë@example.org>\r\nSubject: Zoë's Röntgen\r\n\r\nhi\r\n".encode()
    for quick in (True, False):
        f = incoming.facts(raw, quick)
        assert (f.from_name, f.from_address, f.subject) == ("Zoë Ørsted", "zoë@example.org", "Zoë's Röntgen")


def test_old_8bit_latin1_headers_fall_back_to_latin1() -> None:
    f = incoming.facts("From: Jürgen <j@example.org>\r\nSubject: für\r\n\r\nhi\r\n".encode("latin-1"))
    assert (f.from_name, f.from_address, f.subject) == ("Jürgen", "j@example.org", "für")


def _with_attachment(disposition: bytes, ctype: bytes = b"image/jpeg") -> bytes:
    return (b'From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
            b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the x-ray\r\n"
            b"--b\r\nContent-Type: " + ctype + b"\r\nContent-Disposition: " + disposition +
            b"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--b--\r\n")


def test_unencoded_utf8_filename_is_read_and_the_message_opens() -> None:
    c = incoming.content(_with_attachment('attachment; filename="Röntgen.jpg"'.encode()))
    assert c.problems == [] and c.text.strip() == "See the x-ray"
    assert [(a.filename, a.data) for a in c.attachments] == [("Röntgen.jpg", b"\x00\x01\x02\x03")]


def test_unencoded_latin1_filename_falls_back_to_latin1() -> None:
    c = incoming.content(_with_attachment('attachment; filename="Röntgen.jpg"'.encode("latin-1")))
    assert [a.filename for a in c.attachments] == ["Röntgen.jpg"] and c.text.strip() == "See the x-ray"


def test_rfc2231_filename_still_read() -> None:
    c = incoming.content(_with_attachment(b"attachment; filename*=utf-8''R%C3%B6ntgen.jpg"))
    assert [a.filename for a in c.attachments] == ["Röntgen.jpg"]


def test_raw_utf8_subject_in_a_text_part_charset_less() -> None:
    raw = "From: a@example.org\r\nSubject: Zoë\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nZoë\r\n".encode()
    assert incoming.content(raw).text.strip() == "Zoë"


def test_a_part_that_cannot_be_read_is_kept_as_an_attachment_and_the_rest_read() -> None:
    """RFC 2231 continuations the email package trips over (TypeError inside get_filename)."""
    c = incoming.content(_with_attachment(b"attachment; filename*0*=;filename*"))
    assert c.text.strip() == "See the x-ray"
    assert [(a.filename, a.data) for a in c.attachments] == [("part-3.bin", b"\x00\x01\x02\x03")]
    assert c.problems == ["part 3 unreadable: TypeError"]


def test_raw_utf8_beside_encoded_words_in_one_subject() -> None:
    f = incoming.facts("From: a@example.org\r\nSubject: Zoë =?utf-8?q?caf=C3=A9?=\r\n\r\n".encode())
    assert f.subject == "Zoë café"


_HIDDEN = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c") | \
    {chr(c) for c in range(0x80, 0xa0)}
_hostile_text = st.text(st.one_of(st.characters(blacklist_categories=("Cs",)),
                                  st.sampled_from(sorted(_HIDDEN | set("\r\n\x0b\x0c\u2028\u2029")))), max_size=40)


@given(_hostile_text, _any_address)
def test_a_senders_name_is_one_line_without_bidi_or_control_characters(name: str, address: str) -> None:
    """Bidi overrides in a name could make the kiosk show someone else's address the wrong way round."""
    for value in _encodings(name, address):
        f = incoming.facts(f"From: {value}\r\n\r\n".encode("utf-8"))
        assert not (set(f.from_name) & _HIDDEN) and all(ord(c) >= 32 and c not in "\x7f\u2028\u2029"
                                                         for c in f.from_name), f


@given(_hostile_text)
def test_safe_filename_has_no_bidi_or_c1_controls(name: str) -> None:
    assert not set(incoming.safe_filename(name)) & _HIDDEN
