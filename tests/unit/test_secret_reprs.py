"""No secret in a repr: every dataclass in engine/ whose field is named like a secret (password,
secret, token, PIN, credentials...) is built with a marked value in each such field, nested
settings and logins too (a proxy inside the SMS settings, a login inside the incoming server's),
and neither repr() nor str() may show a mark. A repr reaches logs, tracebacks and error reports;
the next settings or credentials class added is checked without anyone listing it here."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
import typing
from typing import Any

import pytest

import engine

SECRET_NAME = re.compile(r"password|secret|token|device_code|credential|passphrase|private_key|api_key|(^|_)pins?($|_)", re.I)
NOT_SECRET = {  # (class, field): why the name misleads
    ("engine.adapters.oauth.Endpoints", "token"): "the token endpoint's URL",
    ("engine.core.oauth_presets.Preset", "token"): "the token endpoint's URL",
}
MUST_BE_FOUND = {"engine.adapters.sms.SmsSettings", "engine.adapters.proxy.Proxy",
                 "engine.adapters.connection.Password", "engine.adapters.connection.IncomingSettings",
                 "engine.adapters.oauth.Client", "engine.adapters.oauth.Tokens", "engine.adapters.oauth.DeviceCode"}


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _all_classes() -> list[type]:
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(engine.__path__, "engine."):
        if info.name.endswith("__main__"):  # runs the command line when imported
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if isinstance(obj, type) and obj.__module__ == module.__name__:
                found[_name(obj)] = obj
    return list(found.values())


CLASSES = _all_classes()
DATACLASSES = [c for c in CLASSES if dataclasses.is_dataclass(c)]


def _annotation(cls: type, f: dataclasses.Field[Any]) -> Any:
    """The field's type, unwrapped from Optional; None when it cannot be evaluated here."""
    try:
        hint = typing.get_type_hints(cls)[f.name]
    except Exception:  # noqa: BLE001 - a name imported only for type checking
        return None
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if len(args) == 1 else hint


def _secret_field(cls: type, f: dataclasses.Field[Any]) -> bool:
    """Named like a secret, and not a flag or a number about one (User.has_pin)."""
    return (bool(SECRET_NAME.search(f.name)) and (_name(cls), f.name) not in NOT_SECRET
            and _annotation(cls, f) not in (bool, int, float))


def _implementations(protocol: type) -> list[type]:
    """The dataclasses that have every member a Protocol names (Credentials: Password, OAuth2Login)."""
    members = {n for n in vars(protocol) if not n.startswith("_")} | set(getattr(protocol, "__annotations__", {}))
    return [c for c in DATACLASSES if members and all(hasattr(c, m) or m in {f.name for f in
                                                                             dataclasses.fields(c)} for m in members)]


class _Marked:
    def __init__(self, mark: str) -> None:
        self.mark = mark

    def __repr__(self) -> str:
        return self.mark

    __str__ = __repr__


def build(cls: type, marks: list[str], depth: int = 0) -> Any:
    """An instance (no __init__ or __post_init__ run: repr reads only the fields), each secret
    field holding a mark, each field typed as another dataclass or a login holding one built so."""
    inst = object.__new__(cls)
    for f in dataclasses.fields(cls):
        kind = _annotation(cls, f)
        if _secret_field(cls, f) and kind in (str, None):
            value: Any = f"MARK-{cls.__name__}-{f.name}-{len(marks)}"
            marks.append(value)
        elif depth < 3 and isinstance(kind, type) and dataclasses.is_dataclass(kind):
            value = build(kind, marks, depth + 1)
        elif depth < 3 and isinstance(kind, type) and getattr(kind, "_is_protocol", False) and _implementations(kind):
            impls = _implementations(kind)
            with_secret = [c for c in impls if any(_secret_field(c, g) for g in dataclasses.fields(c))]
            value = build((with_secret or impls)[0], marks, depth + 1)
        elif _secret_field(cls, f):  # a secret of another type (a token source...): shown as its mark
            value = _Marked(f"MARK-{cls.__name__}-{f.name}-{len(marks)}")
            marks.append(value.mark)
        else:
            value = "plain"
        object.__setattr__(inst, f.name, value)
    return inst


def marks_in(cls: type) -> list[str]:
    marks: list[str] = []
    build(cls, marks)
    return marks


WITH_SECRETS = [c for c in DATACLASSES if marks_in(c)]  # holding a secret, or a login or settings that do


def test_the_walk_finds_the_known_settings_and_logins() -> None:
    assert MUST_BE_FOUND <= {_name(c) for c in WITH_SECRETS}


@pytest.mark.parametrize("cls", WITH_SECRETS, ids=_name)
def test_no_secret_in_repr_or_str(cls: type) -> None:
    marks: list[str] = []
    inst = build(cls, marks)
    shown = repr(inst) + "\n" + str(inst)
    leaked = [m for m in marks if m in shown]
    assert not leaked, f"{_name(cls)} shows {leaked} in {shown}"
