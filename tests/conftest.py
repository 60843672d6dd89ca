"""Shared fixtures: a migrated database per test, wired in through the real settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adremix.db import engine_for
from adremix.models import User
from adremix.settings import get_settings
from tests.app_server import migrate


def use_database(monkeypatch: pytest.MonkeyPatch, url: str, **env: str) -> None:
    """Point the app's settings (and so its engine) at `url`, as DATABASE_URL would."""
    monkeypatch.setenv("DATABASE_URL", url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite database that `session_scope()` uses for this test."""
    url = f"sqlite:///{tmp_path / 'adremix.db'}"
    migrate(url)
    use_database(monkeypatch, url)
    yield url
    get_settings.cache_clear()
    engine_for(url).dispose()


def make_user(url: str, email: str = "buyer@example.com", name: str = "Buyer") -> int:
    from adremix.db import session_scope

    with session_scope(engine_for(url)) as session:
        user = User(email=email, name=name)
        session.add(user)
        session.flush()
        assert user.id is not None
        return user.id
