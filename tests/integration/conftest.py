from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest

from tools.fakemail import FakeMail


@pytest.fixture
def fakemail() -> Iterator[FakeMail]:
    with FakeMail(seed=1) as fm:
        yield fm


@pytest.fixture
def client_tls(fakemail: FakeMail) -> ssl.SSLContext:
    """A client context that trusts only the fake servers' CA; checks stay on."""
    return ssl.create_default_context(cafile=str(fakemail.ca_file))
