"""The light's rule, stated as what reception cares about (issue 14, finding 9)."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.core import status

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
ACCOUNT = "a1b2c3d4e5f60718"
VALUES = {"practice.email": "desk@practice.example", "account.username": "desk", "account.password": "***",
          "incoming.enabled": True, "incoming.protocol": "imap", "incoming.host": "imap.example",
          "incoming.port": 993, "incoming.security": "auto", "outgoing.host": "smtp.example", "outgoing.port": 587,
          "outgoing.security": "auto", "outgoing.starttls": True, "outgoing.auth": True,
          "setup.allow_without_account": False}

outcomes = st.one_of(st.none(), st.fixed_dictionaries({
    "ok": st.booleans(), "account": st.sampled_from([ACCOUNT, "0ther0ther0ther0", None]),
    "at": st.integers(0, 100).map(lambda s: (NOW - timedelta(seconds=s)).isoformat()),
    "error": st.sampled_from(["", "did not answer in time", "the server refused the login"]),
    "hint": st.just("Check the password.")}))
records = st.one_of(st.none(), st.builds(
    lambda state, age, send, receive, err_phase: {
        "state": state, "at": (NOW - timedelta(seconds=age)).isoformat(),
        "directions": {k: v for k, v in (("send", send), ("receive", receive)) if v is not None},
        "last_error": {"phase": err_phase, "error": "boom", "hint": "h", "at": (NOW - timedelta(seconds=50)).isoformat()}},
    st.sampled_from(["running", "failing", "stopped"]), st.integers(0, 300), outcomes, outcomes,
    st.sampled_from(["send", "receive", "service"])))
setups = st.builds(status.Setup, account=st.sampled_from([ACCOUNT, None]), receiving=st.booleans(),
                   without_account=st.booleans(), tested=st.sampled_from([ACCOUNT, None, "0ther0ther0ther0"]))


def _failed_in_use(record: dict[str, Any] | None, setup: status.Setup) -> list[str]:
    return [d for d, o in ((record or {}).get("directions") or {}).items()
            if not o["ok"] and o["account"] == setup.account and (d == "send" or setup.receiving)]


@given(records, setups)
def test_every_state_has_words_and_is_one_of_the_four(record: dict[str, Any] | None, setup: status.Setup) -> None:
    st_ = status.derive(record, NOW, setup)
    assert st_["state"] in status.STATES
    assert st_["state"] == "running" or (st_["reason"] and st_["hint"])


@given(records, setups)
def test_no_account_saved_is_always_not_set_up(record: dict[str, Any] | None, setup: status.Setup) -> None:
    if setup.account is None:
        assert status.derive(record, NOW, setup)["state"] == "not_set_up"


@given(records, setups)
def test_green_only_when_alive_tested_and_no_direction_in_use_failed(record: dict[str, Any] | None,
                                                                     setup: status.Setup) -> None:
    if status.derive(record, NOW, setup)["state"] == "running":
        assert setup.account is not None and status.alive(record, NOW)
        assert not _failed_in_use(record, setup)
        assert status.proved(record, setup)


@given(records, setups)
def test_a_failed_direction_in_use_is_amber_and_names_it(record: dict[str, Any] | None, setup: status.Setup) -> None:
    failed = _failed_in_use(record, setup)
    if setup.account is not None and status.alive(record, NOW) and failed:
        st_ = status.derive(record, NOW, setup)
        assert st_["state"] == "failing"
        assert st_["reason"].split(":")[0] in {status.DIRECTION_WORDS[d] for d in failed}


def test_a_good_send_does_not_hide_a_failed_receive() -> None:
    record = {"state": "running", "at": NOW.isoformat(), "directions": {
        "receive": {"ok": False, "account": ACCOUNT, "at": (NOW - timedelta(seconds=5)).isoformat(),
                    "error": "imap.example:993 did not answer in time", "hint": "It may be busy."},
        "send": {"ok": True, "account": ACCOUNT, "at": NOW.isoformat(), "error": "", "hint": ""}}}
    setup = status.Setup(account=ACCOUNT, receiving=True, tested=ACCOUNT)
    st_ = status.derive(record, NOW, setup)
    assert (st_["state"], st_["reason"]) == ("failing", "receiving: imap.example:993 did not answer in time")
    # receiving turned off: that direction is no longer in use
    assert status.derive(record, NOW, status.Setup(account=ACCOUNT, receiving=False, tested=ACCOUNT))["state"] == "running"


def test_the_words_for_each_grey() -> None:
    none = status.derive(None, NOW, status.setup_from({}, None))
    assert none["state"] == "not_set_up" and none["reason"] == "no email account is set up yet"
    off = status.derive(None, NOW, status.setup_from({"setup.allow_without_account": True}, None))
    assert "without an email account" in off["reason"]
    untested = status.derive({"state": "running", "at": NOW.isoformat()}, NOW, status.setup_from(VALUES, None))
    assert untested["state"] == "not_set_up" and "not been tested" in untested["reason"]
    tested = status.derive({"state": "running", "at": NOW.isoformat()}, NOW,
                           status.setup_from(VALUES, status.account_key(VALUES)))
    assert tested["state"] == "running"


def test_the_cli_contract_keeps_its_three_and_adds_one() -> None:
    assert set(status.STATES) == {"running", "failing", "stopped", "not_set_up"}


@given(st.sampled_from([k for k in status.ACCOUNT_KEYS if k not in ("incoming.enabled", "outgoing.auth")]),
       st.text(min_size=1, max_size=20))
def test_a_changed_server_or_user_is_a_new_account(key: str, value: str) -> None:
    changed = {**VALUES, key: value}
    if str(VALUES[key]) != value:
        assert status.account_key(changed) != status.account_key(VALUES)


def test_the_password_is_not_part_of_the_account_key_and_a_missing_one_is_no_account() -> None:
    assert status.account_key({**VALUES, "account.password": "***"}) == status.account_key(VALUES)
    assert status.account_key({**VALUES, "account.password": ""}) is None
    assert status.account_key({**VALUES, "outgoing.host": ""}) is None
    assert status.account_key({**VALUES, "incoming.host": ""}) is None
    assert status.account_key({**VALUES, "incoming.host": "", "incoming.enabled": False}) is not None


HOSTILE = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(
    list("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\ufeff<>&"))),
    max_size=400)


@given(HOSTILE, st.integers(1, 300))
def test_plain_line_is_one_short_line_without_controls(text: str, limit: int) -> None:
    shown = status.plain_line(text, limit)
    assert len(shown) <= limit
    assert len(shown.splitlines()) <= 1
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs") for ch in shown)
    assert status.plain_line(shown, limit) == shown
