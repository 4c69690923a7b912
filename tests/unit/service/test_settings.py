"""Settings: every invalid value is refused with its key and changes nothing;
every valid value round-trips; passwords never stored or shown in clear."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from engine.core import settings as catalogue
from engine.errors import SettingsInvalid
from engine.service.practice import Practice

KEYS = [s.key for s in catalogue.CATALOGUE]

VALID = {
    "text": st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40).map(str.strip),
    "secret": st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(str.strip),
    "bool": st.sampled_from(["true", "false", "yes", "no", "on", "off", "1", "0"]),
    "auth": st.sampled_from(["true", "false", "yes", "no", "password", "oauth2", "OAuth2"]),
    "int": st.integers(0, 99).map(str),
    "port": st.integers(1, 65535).map(str),
    "choice": st.sampled_from(["pop3", "imap", "IMAP"]),
    "timezone": st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "UTC"]),
    "email": st.from_regex(r"\A[a-z0-9_-]{1,10}(\.[a-z0-9_-]{1,10})?@[a-z0-9]{1,10}\.(co\.uk|com|test)\Z"),
    "host": st.from_regex(r"\A[a-z0-9]{1,12}(\.[a-z0-9]{1,12}){0,3}\Z"),
    "periods": st.sampled_from(["Mon-Fri 08:00-18:00", "Mon,Wed 07:30-12:00; Sat 09:00-12:00", "Fri 22:00-02:00", ""]),
    "times": st.sampled_from(["12:30,17:45", "", "7:05"]),
    "code": st.from_regex(r"\A[A-Z0-9_-]{1,32}\Z"),
    "path": st.sampled_from(["", "/etc/ssl/ca.pem"]),
    "span": st.sampled_from(["20:00-08:00", "", "12:30-13:30", "23:59-00:00"]),
    "words": st.sampled_from(["C, YES", "c yes", "OUI", "Sí, C", "STOP,ARRÊT", ""]),
}


@pytest.fixture
def practice(data_dir: Path):  # noqa: ANN201
    with Practice(data_dir, writer=True) as p:
        yield p


def _valid_for(key: str):  # noqa: ANN202
    s = catalogue.setting(key)
    strat = VALID[s.kind]
    if s.kind == "choice":
        strat = st.sampled_from([c for c in s.choices] + [c.upper() for c in s.choices])
    if s.kind == "int":
        strat = st.integers(s.minimum or 0, min(s.maximum or 99, 1000)).map(str)
    if not s.optional:
        strat = strat.filter(lambda v: v.strip() != "")
    return strat


@hsettings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data())
def test_valid_values_round_trip(practice: Practice, data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(KEYS))
    raw = data.draw(_valid_for(key))
    value = practice.settings.set(key, raw)
    if catalogue.setting(key).secret:
        assert practice.settings.secret(key) == raw
        assert practice.settings.values()[key] == "***"
    else:
        assert practice.settings.get(key) == (catalogue.effective({key: value})[key])
        assert catalogue.parse(key, value) == value  # the stored form parses to itself


INVALID = {
    "bool": st.sampled_from(["maybe", "2", "tru", "yes please"]),
    "auth": st.sampled_from(["maybe", "oauth", "xoauth2", "2", "pass word", "oauth2 please"]),
    "int": st.sampled_from(["-1", "abc", "1.5", "100001"]),
    "port": st.sampled_from(["0", "65536", "http", "-5"]),
    "choice": st.sampled_from(["smtp", "exchange", "pop", "tls"]),
    "timezone": st.sampled_from(["Mars/Base", "../etc/passwd", "London", "GMT+25"]),
    "email": st.sampled_from(["nobody", "a@b", "two words@x.com", "x@y..com", "<a@b.com>"]),
    "host": st.sampled_from(["http://mail.example.com", "mail example", "mail.example.com:587", "-bad.com"]),
    "periods": st.sampled_from(["Mon-Fri", "Funday 08:00-10:00", "Mon 25:00-26:00", "Mon 08:00-08:00"]),
    "times": st.sampled_from(["noon", "24:00", "12:60"]),
    "code": st.sampled_from(["lower", "HAS SPACE", "X" * 33, "A/B"]),
    "span": st.sampled_from(["20-08", "20:00-20:00", "25:00-08:00", "evening", "20:00 to 08:00"]),
    "words": st.sampled_from(["C, YE5", "Y-E-S", "A" * 21, "STOP\u200e", "C;YES"]),
}


@hsettings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data())
def test_invalid_values_are_refused_with_key_and_change_nothing(practice: Practice, data: st.DataObject) -> None:
    key = data.draw(st.sampled_from([s.key for s in catalogue.CATALOGUE if s.kind in INVALID or not s.optional]))
    s = catalogue.setting(key)
    bad = data.draw(INVALID.get(s.kind, st.just("")) | (st.just("") if not s.optional else st.nothing())
                    | st.just("line\nbreak"))
    before = practice.settings.values()
    stored_before = (practice.store.folder / "db" / "settings.json").read_bytes() \
        if (practice.store.folder / "db" / "settings.json").exists() else b""
    with pytest.raises(SettingsInvalid) as exc:
        practice.settings.set_many({"practice.name": "Changed", key: bad})
    assert exc.value.key == key and exc.value.hint
    assert practice.settings.values() == before
    after = (practice.store.folder / "db" / "settings.json").read_bytes() \
        if (practice.store.folder / "db" / "settings.json").exists() else b""
    assert after == stored_before


def test_unknown_key_is_refused_with_a_suggestion(practice: Practice) -> None:
    with pytest.raises(SettingsInvalid) as exc:
        practice.settings.set("pacing.perminute", "5")
    assert exc.value.key == "pacing.perminute"


def test_password_is_encrypted_at_rest_and_never_logged(data_dir: Path) -> None:
    secret = "Tr0ub4dor&3-horse"
    with Practice(data_dir, writer=True) as p:
        p.settings.set("account.password", secret)
        import logging

        logging.getLogger("practicemail.smtp").warning("login failed for password %s", secret)
    for f in data_dir.rglob("*"):
        if f.is_file():
            assert secret.encode() not in f.read_bytes(), f"password in clear in {f}"
    key = data_dir / "keys" / "secret.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    with Practice(data_dir, writer=False) as p:
        assert p.settings.secret("account.password") == secret
        assert p.settings.values()["account.password"] == "***"


def test_incoming_port_follows_protocol_until_set(practice: Practice) -> None:
    assert practice.settings.get("incoming.port") == 995
    practice.settings.set("incoming.protocol", "imap")
    assert practice.settings.get("incoming.port") == 993
    practice.settings.set("incoming.port", "143")
    assert practice.settings.get("incoming.port") == 143


def test_check_names_each_problem(practice: Practice) -> None:
    keys = {p.column for p in practice.settings.check()}
    assert {"practice.email", "outgoing.host", "incoming.host"} <= keys
    practice.settings.set_many({"setup.allow_without_account": "yes", "incoming.protocol": "imap",
                                "incoming.port": "995"})
    assert [p.column for p in practice.settings.check()] == ["incoming.port"]


def test_a_locked_key_is_refused_on_either_store_and_kept_by_other_writes(backend) -> None:  # noqa: ANN001
    """The lock lives in the settings record: another desk (a second Practice on the same store)
    sees it, a write of other keys keeps it, and a refused write changes nothing."""
    with backend.practice() as p:
        p.settings.set_many({"sms.account": "AC1", "practice.name": "Smile"})
        p.settings.lock("sms.account", "the SMS provider's test succeeded on 2026-11-24", "2026-11-24T09:00:00+00:00")
        p.settings.set("practice.name", "Bright Smile")  # another key: the lock stays
        with pytest.raises(SettingsInvalid, match="sms.account: is locked") as exc:
            p.settings.set_many({"practice.name": "Other", "sms.account": "AC2"})
        assert exc.value.key == "sms.account" and "unlock" in exc.value.hint
        assert (p.settings.get("sms.account"), p.settings.get("practice.name")) == ("AC1", "Bright Smile")
        p.settings.set("sms.account", "AC1")  # not a change
        assert p.settings.locked("sms.account")["since"] == "2026-11-24T09:00:00+00:00"
    with backend.practice() as again:
        assert again.settings.locked("sms.account") is not None
        assert again.settings.unlock("sms.account") and not again.settings.unlock("sms.account")
        again.settings.set("sms.account", "AC2")
        assert again.settings.get("sms.account") == "AC2"
