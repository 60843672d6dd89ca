"""The browser tests' frontend build cache reuses a build only for identical sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reflex_build_cache import sources_digest


@pytest.fixture
def web(tmp_path: Path) -> Path:
    (tmp_path / "app" / "routes").mkdir(parents=True)
    (tmp_path / "app" / "routes" / "new.jsx").write_text("export default () => null")
    (tmp_path / "env.json").write_text('{"EVENT": "ws://localhost:8000/_event"}')
    (tmp_path / "reflex.json").write_text('{"last_reflex_run_datetime": "09:00"}')
    (tmp_path / "build" / "client").mkdir(parents=True)
    (tmp_path / "node_modules" / "react").mkdir(parents=True)
    return tmp_path


def test_any_source_change_means_a_new_build(web: Path) -> None:
    before = sources_digest(web)
    (web / "app" / "routes" / "new.jsx").write_text("export default () => 1")
    assert sources_digest(web) != before
    (web / "env.json").write_text('{"EVENT": "ws://localhost:8001/_event"}')
    changed = sources_digest(web)
    (web / "app" / "routes" / "login.jsx").write_text("")
    assert sources_digest(web) != changed


def test_the_build_environment_is_part_of_the_key(
    web: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = sources_digest(web)
    monkeypatch.setenv("VITE_SOMETHING", "1")
    assert sources_digest(web) != before


def test_outputs_and_bookkeeping_are_not_sources(web: Path) -> None:
    before = sources_digest(web)
    (web / "reflex.json").write_text('{"last_reflex_run_datetime": "09:05"}')
    (web / "build" / "client" / "index.html").write_text("<html>")
    (web / "node_modules" / "react" / "index.js").write_text("")
    assert sources_digest(web) == before
