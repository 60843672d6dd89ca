"""Production refuses to start without the settings it needs, naming each one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.app_server import ROOT


def import_app_in_production(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """Import the app as a production server would, with only the settings given."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GOOGLE_", "ADREMIX_", "OIDC_", "RAZORPAY_", "OPENAI_"))
    }
    env.update(ADREMIX_ENV="prod", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", **settings)
    return subprocess.run(
        [sys.executable, "-c", "import adremix.adremix"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_start_up_names_missing_settings(tmp_path: Path) -> None:
    result = import_app_in_production(tmp_path)
    assert result.returncode != 0
    for name in ("ADREMIX_SECRET_KEY", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"):
        assert name in result.stderr


def test_production_does_not_start_with_a_seller_gstin_of_another_state(tmp_path: Path) -> None:
    result = import_app_in_production(
        tmp_path,
        ADREMIX_SECRET_KEY="a-production-secret-key",
        ADREMIX_PUBLIC_URL="https://ads.example.com",
        GOOGLE_CLIENT_ID="client.apps.googleusercontent.com",
        GOOGLE_CLIENT_SECRET="secret",
        RAZORPAY_KEY_ID="rzp_live_x",
        RAZORPAY_KEY_SECRET="secret",
        RAZORPAY_WEBHOOK_SECRET="secret",
        OPENAI_API_KEY="sk-live",
        ADREMIX_SELLER_ADDRESS="1 MG Road, Bengaluru 560001",
        ADREMIX_SELLER_GSTIN="29AABCU9603R1ZJ",
        ADREMIX_SELLER_STATE="27",
    )
    assert result.returncode != 0
    assert "registered in State 29 but ADREMIX_SELLER_STATE is 27" in result.stderr
