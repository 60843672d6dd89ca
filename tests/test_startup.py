"""Production refuses to start without the settings it needs, naming each one."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.app_server import ROOT


def test_production_start_up_names_missing_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GOOGLE_", "ADREMIX_", "OIDC_"))
    }
    env.update(ADREMIX_ENV="prod", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = subprocess.run(
        [sys.executable, "-c", "import adremix.adremix"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    for name in ("ADREMIX_SECRET_KEY", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"):
        assert name in result.stderr
