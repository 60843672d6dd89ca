"""Start-up rules: production refuses to run without its secrets; dev runs with nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adremix.settings import DEV_SECRET_KEY, ConfigurationError, Settings, get_settings

GOOGLE = {"google_client_id": "client.apps.example", "google_client_secret": "s3cret"}
RAZORPAY = {
    "razorpay_key_id": "rzp_live_x",
    "razorpay_key_secret": "key-secret",
    "razorpay_webhook_secret": "whsec",
}
REST = {
    "openai_api_key": "sk-live-key",
    "public_url": "https://ads.example.com",
    "seller_gstin": "29AABCU9603R1ZJ",
    "seller_address": "1 MG Road\\nBengaluru 560001",
}


@pytest.fixture(autouse=True)
def empty_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No setting may leak in from the shell running the tests."""
    for field in Settings.model_fields.values():
        if isinstance(field.validation_alias, str):
            monkeypatch.delenv(field.validation_alias, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def startup_error(config: Settings) -> str:
    with pytest.raises(ConfigurationError) as raised:
        config.ensure_startable()
    return str(raised.value)


def test_production_with_nothing_set_names_every_missing_secret() -> None:
    message = startup_error(settings(env="prod"))
    for name in ("ADREMIX_SECRET_KEY", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"):
        assert name in message
    assert "ADREMIX_ENV=prod" in message


def test_production_names_only_what_is_missing() -> None:
    message = startup_error(
        settings(env="prod", secret_key="a-long-random-key", **RAZORPAY, **REST)
    )
    assert "GOOGLE_CLIENT_ID" in message and "GOOGLE_CLIENT_SECRET" in message
    assert "ADREMIX_SECRET_KEY" not in message and "RAZORPAY" not in message
    assert "OPENAI_API_KEY" not in message and "ADREMIX_PUBLIC_URL" not in message
    assert "ADREMIX_SELLER" not in message


def test_production_needs_the_sellers_gstin_and_address_for_its_tax_invoices() -> None:
    base = {**REST, "seller_gstin": "", "seller_address": " "}
    config = settings(env="prod", secret_key="k", **GOOGLE, **RAZORPAY, **base)
    assert config.missing_for_production() == ["ADREMIX_SELLER_GSTIN", "ADREMIX_SELLER_ADDRESS"]
    # A seller that charges no GST is not registered for it: the address is still needed.
    untaxed = settings(env="prod", secret_key="k", gst_percent=0, **GOOGLE, **RAZORPAY, **base)
    assert untaxed.missing_for_production() == ["ADREMIX_SELLER_ADDRESS"]


@pytest.mark.parametrize("placeholder", ["changethis", ""])
def test_a_placeholder_secret_key_counts_as_missing_in_production(placeholder: str) -> None:
    config = settings(env="prod", secret_key=placeholder, **GOOGLE, **RAZORPAY, **REST)
    assert "ADREMIX_SECRET_KEY" in startup_error(config)
    with pytest.raises(ConfigurationError):
        _ = config.signing_key


def test_production_needs_the_openai_key_and_a_public_url() -> None:
    message = startup_error(
        settings(env="prod", secret_key="a-long-random-key", **GOOGLE, **RAZORPAY)
    )
    assert "OPENAI_API_KEY" in message and "ADREMIX_PUBLIC_URL" in message


@pytest.mark.parametrize(
    "url", ["ads.example.com", "https://", "https://ads.example.com/app", "ftp://ads.example.com"]
)
def test_a_public_url_that_is_not_an_origin_counts_as_missing(url: str) -> None:
    config = settings(
        env="prod", secret_key="k", **GOOGLE, **RAZORPAY, **{**REST, "public_url": url}
    )
    assert config.missing_for_production() == ["ADREMIX_PUBLIC_URL"]


def test_production_with_every_secret_starts() -> None:
    config = settings(env="prod", secret_key="a-long-random-key", **GOOGLE, **RAZORPAY, **REST)
    config.ensure_startable()
    assert config.signing_key == "a-long-random-key"


def test_production_read_from_the_environment_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ADREMIX_ENV", "prod")
    monkeypatch.setenv("ADREMIX_SECRET_KEY", "changethis")
    message = startup_error(Settings(_env_file=None))  # type: ignore[call-arg]
    for name in ("ADREMIX_SECRET_KEY", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"):
        assert name in message


def test_unset_environment_means_production() -> None:
    config = settings()
    assert config.is_production and not config.dev_sign_in_enabled
    assert not config.test_checkout_enabled
    assert "ADREMIX_SECRET_KEY" in startup_error(config)


def test_dev_starts_without_any_other_setting_and_signs_with_the_dev_key() -> None:
    config = settings(env="dev")
    assert not config.is_production
    config.ensure_startable()
    assert config.missing_for_production() == []
    assert config.signing_key == DEV_SECRET_KEY


def test_developer_sign_in_is_on_in_dev_without_google() -> None:
    assert settings(env="dev").dev_sign_in_enabled


def test_developer_sign_in_is_off_in_dev_with_google() -> None:
    assert not settings(env="dev", **GOOGLE).dev_sign_in_enabled


@pytest.mark.parametrize("google", [{}, GOOGLE], ids=["without-google", "with-google"])
def test_developer_sign_in_is_never_on_in_production(google: dict[str, str]) -> None:
    assert not settings(env="prod", **google).dev_sign_in_enabled


def test_only_the_public_origin_may_call_production() -> None:
    config = settings(env="prod", public_url="https://ads.example.com/")
    assert config.allowed_origins == ["https://ads.example.com"]


def test_development_also_allows_localhost_on_the_same_port() -> None:
    config = settings(env="dev", public_url="http://localhost:8123")
    assert config.allowed_origins == ["http://localhost:8123", "http://127.0.0.1:8123"]
    assert settings(env="dev").allowed_origins == [
        "http://localhost:8000",
        "http://127.0.0.1:8000",
    ]
