"""`python -m adremix config check`: every setting in force, secrets masked, and a non-zero
exit when production lacks what it needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app_server import ROOT

COMPLETE_PRODUCTION = {
    "ADREMIX_ENV": "prod",
    "ADREMIX_SECRET_KEY": "prod-secret-key-abcdefghijklmnop",
    "ADREMIX_PUBLIC_URL": "https://ads.example.com",
    "GOOGLE_CLIENT_ID": "client.apps.googleusercontent.com",
    "GOOGLE_CLIENT_SECRET": "google-client-secret-value",
    "RAZORPAY_KEY_ID": "rzp_live_abc",
    "RAZORPAY_KEY_SECRET": "razorpay-key-secret-value",
    "RAZORPAY_WEBHOOK_SECRET": "razorpay-webhook-secret-value",
    "OPENAI_API_KEY": "sk-live-openai-key-value",
    "ADREMIX_SELLER_GSTIN": "29AABCU9603R1ZJ",
    "ADREMIX_SELLER_ADDRESS": "1 MG Road\\nBengaluru 560001",
    "ADREMIX_SELLER_STATE": "29",
    "DATABASE_URL": "postgresql+psycopg://adremix:db-password-value@db.internal/adremix",
}
SECRET_VALUES = [
    "prod-secret-key-abcdefghijklmnop",
    "google-client-secret-value",
    "razorpay-key-secret-value",
    "razorpay-webhook-secret-value",
    "sk-live-openai-key-value",
    "db-password-value",
]


def config_check(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # Only what the test gives: nothing from the shell or a .env (cwd has none).
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADREMIX_", "GOOGLE_", "OIDC_", "OPENAI_", "RAZORPAY_", "DATABASE"))
    }
    return subprocess.run(
        [sys.executable, "-m", "adremix", "config", "check"],
        cwd=cwd,
        env={**inherited, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_with_nothing_set_it_is_production_and_names_every_missing_setting(
    tmp_path: Path,
) -> None:
    result = config_check({}, tmp_path)
    assert result.returncode == 1
    assert "mode: production" in result.stdout
    for name in (
        "ADREMIX_SECRET_KEY",
        "GOOGLE_CLIENT_ID",
        "GOOGLE_CLIENT_SECRET",
        "RAZORPAY_KEY_ID",
        "RAZORPAY_KEY_SECRET",
        "RAZORPAY_WEBHOOK_SECRET",
        "OPENAI_API_KEY",
        "ADREMIX_PUBLIC_URL",
        "ADREMIX_SELLER_GSTIN",
        "ADREMIX_SELLER_ADDRESS",
    ):
        assert name in result.stderr


def test_complete_production_passes_and_never_prints_a_secret(tmp_path: Path) -> None:
    result = config_check(COMPLETE_PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "config check: ok" in result.stdout
    for secret in SECRET_VALUES:
        assert secret not in result.stdout + result.stderr
    lines = dict(
        line.split(None, 1) for line in result.stdout.splitlines() if line.strip() and "  " in line
    )
    assert lines["ADREMIX_PUBLIC_URL"].strip() == "https://ads.example.com"
    assert lines["OPENAI_API_KEY"].strip() == "<set, 24 characters>"
    assert lines["DATABASE_URL"].strip() == "postgresql+psycopg://adremix:***@db.internal/adremix"
    assert "origins allowed to call the backend: https://ads.example.com" in result.stdout


def test_one_missing_setting_fails_the_check(tmp_path: Path) -> None:
    env = {**COMPLETE_PRODUCTION, "OPENAI_API_KEY": ""}
    result = config_check(env, tmp_path)
    assert result.returncode == 1
    assert "OPENAI_API_KEY" in result.stderr and "GOOGLE_CLIENT_ID" not in result.stderr


@pytest.mark.parametrize(
    ("gstin", "state", "reason"),
    [
        ("29AABCU9603R1ZK", "29", "check character"),
        ("29AABCU9603R1Z", "29", "15 characters"),
        ("29AABCU9603R1ZJ", "27", "ADREMIX_SELLER_STATE is 27"),
    ],
)
def test_a_wrong_seller_gstin_fails_the_check(
    tmp_path: Path, gstin: str, state: str, reason: str
) -> None:
    env = {**COMPLETE_PRODUCTION, "ADREMIX_SELLER_GSTIN": gstin, "ADREMIX_SELLER_STATE": state}
    result = config_check(env, tmp_path)
    assert result.returncode == 1
    assert "ADREMIX_SELLER_GSTIN" in result.stderr and reason in result.stderr


def test_development_needs_nothing(tmp_path: Path) -> None:
    result = config_check({"ADREMIX_ENV": "dev"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "mode: development" in result.stdout
