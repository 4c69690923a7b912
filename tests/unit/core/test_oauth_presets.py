"""Providers as data: the tenant goes into Microsoft's addresses, scopes can be overridden, and
a practice address only ever suggests a preset."""

from __future__ import annotations

from hypothesis import given, strategies as st

from engine.core.oauth_presets import PRESETS, endpoint, propose, scopes_from


def test_tenant_in_microsoft_addresses_and_organizations_by_default() -> None:
    ms = PRESETS["microsoft"]
    assert endpoint(ms.token, "contoso.onmicrosoft.com").startswith("https://login.microsoftonline.com/contoso.onmicrosoft.com/")
    assert "/organizations/" in endpoint(ms.token, "  ")
    assert "offline_access" in ms.scopes and "https://mail.google.com/" in PRESETS["google"].scopes


def test_scopes_override() -> None:
    assert scopes_from("a b,c", PRESETS["google"]) == ("a", "b", "c")
    assert scopes_from("", PRESETS["google"]) == PRESETS["google"].scopes


@given(st.text(max_size=60))
def test_propose_is_a_known_preset_or_nothing(address: str) -> None:
    assert propose(address) in ("", *PRESETS)


def test_propose_known_domains_only() -> None:
    assert propose("smile@GMAIL.com") == "google" and propose("desk@outlook.com") == "microsoft"
    assert propose("reception@smile-dental.co.uk") == ""
