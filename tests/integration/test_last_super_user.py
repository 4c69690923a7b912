"""The last super user stays, however many doors change users at once (#19): the check ("is
another super user left?") and the change are one step. Two App objects over one practice,
each changing users on its own thread (on PostgreSQL each on its own connection, so the
database's own locking is what is tried), lined up by a barrier: each demotes or removes one of
the two super users. One of them must be refused, every round; before the fix both could pass
their check before either wrote, and the practice was left without a super user."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from engine.errors import InputInvalid
from engine.service.app import SUPER, App
from tests.backends import Backend

ROUNDS = 20


def race(first: Callable[[], object], second: Callable[[], object]) -> list[str]:
    """Both at once (a barrier lines them up); what each said: 'done' or its refusal."""
    barrier = threading.Barrier(2)
    said: list[str] = ["", ""]

    def run(n: int, change: Callable[[], object]) -> None:
        barrier.wait(timeout=30)
        try:
            change()
            said[n] = "done"
        except InputInvalid as exc:
            said[n] = exc.message
        except Exception as exc:  # noqa: BLE001 - said, so that the assertion shows it
            said[n] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=run, args=(n, fn)) for n, fn in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a change never finished (a lock held for ever?)"
    return said


@pytest.mark.parametrize("how", ["demote", "remove"])
def test_two_doors_at_once_never_leave_the_practice_without_a_super_user(backend: Backend, how: str) -> None:
    with backend.practice() as practice:
        one, two = App(practice), App(practice)  # two doors, two Roles, one store
        one.roles.add_user("Boss", SUPER, "9999")
        for n in range(ROUNDS):
            if how == "demote":
                said = race(lambda: one.roles.update_user(SUPER, group="reception"),
                            lambda: two.roles.update_user("Boss", group="reception"))
            else:
                said = race(lambda: one.roles.remove_user(SUPER), lambda: two.roles.remove_user("Boss"))
            supers = [u.name for u in one.roles.users() if u.group == SUPER]
            assert len(supers) == 1, f"round {n}: {said}, super users left: {supers}"
            assert sorted(said) == sorted(["done", f"{'Boss' if supers == ['Boss'] else SUPER} is the last super user"])
            if how == "demote":  # back to two super users for the next round
                one.roles.update_user(SUPER if supers == ["Boss"] else "Boss", group=SUPER)
            else:
                one.roles.add_user(SUPER if supers == ["Boss"] else "Boss", SUPER, "9999")


@pytest.mark.parametrize("how", ["two users", "two groups"])
def test_two_doors_making_the_first_user_change_at_once_write_the_default_users_once(
        backend: Backend, how: str) -> None:
    """A fresh install's groups and users are written by the first change (`_materialise`): two
    doors making it at once each saw none stored and each wrote them all, every default user and
    group twice. Each round starts from a fresh install again (nothing stored)."""
    with backend.practice() as practice:
        one, two = App(practice), App(practice)
        defaults = sorted(u.name for u in one.roles.users())
        for n in range(ROUNDS):
            for name in ("users", "groups"):
                practice.store.collection(name).replace_all([])
            if how == "two users":
                said = race(lambda: one.roles.add_user(f"Ann{n}", "dentist", "4821"),
                            lambda: two.roles.add_user(f"Bob{n}", "reception", "4822"))
            else:
                said = race(lambda: one.roles.save_group(f"Nurses{n}", ["view_html"]),
                            lambda: two.roles.save_group(f"Hygienists{n}", ["delete"]))
            assert said == ["done", "done"], f"round {n}: {said}"
            users = sorted(r["name"] for r in practice.store.collection("users").all())
            added = [f"Ann{n}", f"Bob{n}"] if how == "two users" else []
            assert users == sorted([*defaults, *added]), f"round {n}"
            groups = [r["name"] for r in practice.store.collection("groups").all()]
            assert len(groups) == len(set(groups)), f"round {n}: {groups}"
