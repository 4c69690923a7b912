"""Security groups and users (#19), on both storage backends: stored groups with ticked
permissions, users with hashed PINs, no lock-out, the old role PINs migrated, hostile names."""

from __future__ import annotations

import pytest

from engine.errors import InputInvalid
from engine.service.roles import DEFAULT_GROUPS, MANAGE, PERMISSIONS, SUPER, PinRefused, Roles, SignedIn, allowed
from tests.backends import Backend


def test_a_fresh_install_has_the_default_groups_and_html_is_the_super_users_alone(backend: Backend) -> None:
    with backend.open() as store:
        roles = Roles(store)
        assert [g.name for g in roles.groups()] == ["reception", "dentist", "practice manager", "super user"]
        assert [g.name for g in roles.groups() if "view_html" in g.permissions] == [SUPER]
        assert roles.desk() == SignedIn("", "reception", DEFAULT_GROUPS["reception"])
        assert not allowed(roles.desk(), "view_html") and allowed(roles.sign_in(SUPER, ""), "view_html")


def test_groups_and_users_are_stored_and_sign_in_with_a_hashed_pin(backend: Backend) -> None:
    with backend.open() as store:
        roles = Roles(store)
        roles.save_group("Hygienist", {"view_html", "templates"})
        roles.add_user("Ann Lee", "hygienist", "4821")
    with backend.open() as store:  # read back after a close: it was stored
        roles = Roles(store)
        assert roles.group("hygienist").permissions == frozenset({"view_html", "templates"})
        who = roles.sign_in("ann lee", "4821")
        assert who == SignedIn("Ann Lee", "Hygienist", frozenset({"view_html", "templates"}))
        with pytest.raises(PinRefused):
            roles.sign_in("Ann Lee", "4822")
        with pytest.raises(PinRefused):
            roles.sign_in("Nobody", "4821")
        assert "4821" not in repr(store.collection("users").all())  # hashed, never in clear
        roles.save_group("Hygienist", {"templates"})  # unticked: the signed-in user sees it again
        assert not allowed(roles.again(who), "view_html") and allowed(roles.again(who), "templates")
        roles.remove_user("Ann Lee")
        assert roles.again(who) == roles.desk()


def test_nobody_is_locked_out(backend: Backend) -> None:
    with backend.open() as store:
        roles = Roles(store)
        with pytest.raises(InputInvalid, match="always manages"):
            roles.save_group("Super User", set(PERMISSIONS) - {MANAGE})
        with pytest.raises(InputInvalid, match="last super user"):
            roles.remove_user(SUPER)
        with pytest.raises(InputInvalid, match="last super user"):
            roles.update_user(SUPER, group="reception")
        with pytest.raises(InputInvalid, match="cannot be removed"):
            roles.remove_group(SUPER)
        with pytest.raises(InputInvalid, match="cannot be removed"):
            roles.remove_group("reception")
        with pytest.raises(InputInvalid, match="still has"):
            roles.remove_group("dentist")  # its user first
        roles.add_user("Boss", SUPER, "9999")
        roles.remove_user(SUPER)  # another super user stays
        assert [u.name for u in roles.users() if u.group == SUPER] == ["Boss"]
        assert MANAGE in roles.group(SUPER).permissions


def test_the_old_role_pins_become_users_of_their_group(backend: Backend) -> None:
    from engine.service.roles import _hash

    with backend.open() as store:  # what the fixed roles stored before groups
        store.collection("roles").insert({"role": "super user", "salt": "00" * 16, "hash": _hash("2468", bytes(16))})
        roles = Roles(store)
        assert not roles.verify("super user", "1111") and roles.sign_in("super user", "2468").group == SUPER
        assert roles.sign_in("dentist", "").group == "dentist"  # a PIN-less user of a group that does not manage
        roles.save_group("dentist", {"templates", MANAGE})  # one that manages, without a PIN: no way in now
        with pytest.raises(PinRefused, match="no PIN yet"):
            roles.sign_in("dentist", "")
        roles.save_group("dentist", {"templates"})
        roles.add_user("Ann", "reception", "1234")  # the first change writes the migrated users
    with backend.open() as store:
        roles = Roles(store)
        assert {u.name for u in roles.users()} == {"reception", "dentist", "super user", "Ann"}
        assert roles.sign_in("super user", "2468").group == SUPER and roles.has_pin("super user")


def test_a_permission_added_later_takes_its_default_until_decided(backend: Backend,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.service import roles as module

    with backend.open() as store:
        roles = Roles(store)
        roles.save_group("dentist", {"templates"})
        monkeypatch.setitem(module.PERMISSIONS, "sms_id", "Unlock the SMS practice ID")
        monkeypatch.setitem(module.DEFAULT_GROUPS, SUPER, frozenset(module.PERMISSIONS))
        assert "sms_id" in roles.group(SUPER).permissions and "sms_id" not in roles.group("dentist").permissions
        roles.save_group(SUPER, set(PERMISSIONS) - {"sms_id"})  # unticked: decided now
        assert "sms_id" not in roles.group(SUPER).permissions


@pytest.mark.parametrize("pin", ["123", "1234567890123", "12a4", "١٢٣٤", "²³⁴⁵", "1234\n", " 1234", ""])
def test_a_pin_is_four_to_twelve_ascii_digits(data_dir, pin: str) -> None:  # noqa: ANN001
    with Backend("tinydb", data_dir, None).open() as store:
        with pytest.raises(InputInvalid, match="4 to 12 digits"):
            Roles(store).add_user("Ann", "reception", pin)
        assert Roles(store).users()[0].name == "reception" and store.collection("users").all() == []


@pytest.mark.parametrize("name", ["", " ", "x" * 41, "Ann\nBoss", "Ann\r", "Ann\u2028", "Ann\u202eesoB",
                                  "Ann\x85", "Ann\x00", "Ann\u200b"])
def test_names_refused_in_words(data_dir, name: str) -> None:  # noqa: ANN001
    with Backend("tinydb", data_dir, None).open() as store:
        roles = Roles(store)
        with pytest.raises(InputInvalid, match="name"):
            roles.add_user(name, "reception", "1234")
        with pytest.raises(InputInvalid, match="name"):
            roles.save_group(name, set())
        assert store.collection("users").all() == [] and store.collection("groups").all() == []


def test_duplicates_and_unknowns_refused(data_dir) -> None:  # noqa: ANN001
    with Backend("tinydb", data_dir, None).open() as store:
        roles = Roles(store)
        roles.add_user("Ann", "reception", "1234")
        with pytest.raises(InputInvalid, match="already"):
            roles.add_user("ANN", "dentist", "1234")
        with pytest.raises(InputInvalid, match="no group"):
            roles.add_user("Bob", "janitors", "1234")
        with pytest.raises(InputInvalid, match="no such permission"):
            roles.save_group("reception", {"fly"})
        with pytest.raises(InputInvalid, match="no user"):
            roles.remove_user("Bob")
        assert [u.name for u in roles.users()].count("Ann") == 1


def test_a_pin_keeps_the_cost_it_was_made_with(backend: Backend) -> None:
    with backend.open() as store:
        roles = Roles(store)
        roles.pin_cost = 2**15  # a practice raising the cost: PINs set from now on
        roles.add_user("Ann", "reception", "4821")
        assert store.collection("users").find_by("name", "Ann")[0]["n"] == 2**15
    with backend.open() as store:
        roles = Roles(store)  # the usual cost again: Ann's PIN still checks with its own
        assert roles.sign_in("Ann", "4821").user == "Ann"
        roles.set_pin("Ann", "4822")
        assert store.collection("users").find_by("name", "Ann")[0]["n"] == 2**14
        with pytest.raises(PinRefused):
            roles.sign_in("Ann", "4821")


def test_a_refused_change_writes_nothing(backend: Backend) -> None:
    """A fresh install's users are written at the first change, not at a refused one."""
    with backend.open() as store:
        roles = Roles(store)
        for refused in (lambda: roles.remove_user(SUPER), lambda: roles.update_user(SUPER, group="dentist"),
                        lambda: roles.remove_user("Nobody"), lambda: roles.add_user("Reception", "dentist", "1234")):
            with pytest.raises(InputInvalid):
                refused()
        assert store.collection("users").all() == [] and store.collection("groups").all() == []
