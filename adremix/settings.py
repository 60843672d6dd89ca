"""One typed settings object, read once from the environment (and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, PositiveInt, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changethis"})
DEV_SECRET_KEY = "adremix-dev-only-secret-key"
DEV_PUBLIC_URL = "http://localhost:8000"
# Shown by `python -m adremix config check` only as "set" or "not set".
SECRET_SETTINGS = frozenset(
    {
        "ADREMIX_SECRET_KEY",
        "GOOGLE_CLIENT_SECRET",
        "OPENAI_API_KEY",
        "RAZORPAY_KEY_SECRET",
        "RAZORPAY_WEBHOOK_SECRET",
        "ADREMIX_SMTP_PASSWORD",
        "ADREMIX_METRICS_TOKEN",
    }
)


class ConfigurationError(RuntimeError):
    """A setting the app cannot run without is missing or unusable."""


class CreditPackage(BaseModel):
    """A purchasable bundle of credits; prices in paise (integers, never floats)."""

    code: str
    name: str
    credits: PositiveInt
    price_paise: PositiveInt


class SubscriptionPlan(BaseModel):
    """A plan sold by subscription: `credits` every cycle for `price_paise` (GST included
    when prices include it). Created at Razorpay on demand; a changed price is a new plan
    there (Razorpay plans cannot be edited)."""

    code: str
    name: str
    credits: PositiveInt
    price_paise: int = Field(ge=100)  # Razorpay's minimum charge is ₹1
    period: Literal["daily", "weekly", "monthly", "yearly"] = "monthly"
    interval: PositiveInt = 1


DEFAULT_SUBSCRIPTION_PLANS = [
    SubscriptionPlan(code="starter-monthly", name="Starter", credits=40, price_paise=59_900),
    SubscriptionPlan(code="pro-monthly", name="Pro", credits=200, price_paise=199_900),
]


DEFAULT_PACKAGES = [
    CreditPackage(code="starter", name="Starter", credits=10, price_paise=19_900),
    CreditPackage(code="growth", name="Growth", credits=50, price_paise=79_900),
    CreditPackage(code="agency", name="Agency", credits=200, price_paise=249_900),
]


class Settings(BaseSettings):
    """Every setting AdRemix reads. Environment names are the upper-case aliases."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, frozen=True
    )

    # Unset means production: offline defaults (developer sign-in, test checkout) are
    # opt-in, never something a forgotten variable turns on.
    env: Literal["dev", "prod"] = Field("prod", validation_alias="ADREMIX_ENV")
    # Where browsers reach the app (scheme://host[:port]); the only origin allowed to call
    # the backend (CORS, websocket). Outside production, localhost on the same port too.
    public_url: str = Field("", validation_alias="ADREMIX_PUBLIC_URL")
    database_url: str = Field("sqlite:///data/adremix.db", validation_alias="DATABASE_URL")
    secret_key: str = Field("", validation_alias="ADREMIX_SECRET_KEY")
    google_client_id: str = Field("", validation_alias="GOOGLE_CLIENT_ID")
    google_client_secret: str = Field("", validation_alias="GOOGLE_CLIENT_SECRET")
    oidc_issuer: str = Field("https://accounts.google.com", validation_alias="OIDC_ISSUER")
    openai_api_key: str = Field("", validation_alias="OPENAI_API_KEY")
    openai_base_url: str = Field("", validation_alias="OPENAI_BASE_URL")
    openai_image_model: str = Field("gpt-image-1", validation_alias="OPENAI_IMAGE_MODEL")
    # "Suggest copy" asks this text model (Chat Completions with a JSON schema answer).
    openai_text_model: str = Field("gpt-4o-mini", validation_alias="OPENAI_TEXT_MODEL")
    openai_timeout_s: float = Field(120.0, gt=0, validation_alias="OPENAI_TIMEOUT_S")
    openai_max_retries: int = Field(2, ge=0, le=5, validation_alias="OPENAI_MAX_RETRIES")
    # Longest wait between the SDK's retries. Unset: the server's Retry-After (up to the
    # SDK's two minutes), else the SDK's exponential backoff. Tests set it short.
    openai_retry_max_wait_s: float | None = Field(
        None, gt=0, validation_alias="OPENAI_RETRY_MAX_WAIT_S"
    )
    generation_deadline_s: float = Field(
        300.0, gt=0, validation_alias="ADREMIX_GENERATION_DEADLINE_S"
    )
    razorpay_key_id: str = Field("", validation_alias="RAZORPAY_KEY_ID")
    razorpay_key_secret: str = Field("", validation_alias="RAZORPAY_KEY_SECRET")
    razorpay_webhook_secret: str = Field("", validation_alias="RAZORPAY_WEBHOOK_SECRET")
    razorpay_base_url: str = Field("", validation_alias="RAZORPAY_BASE_URL")
    # Staff of the admin console, by e-mail address (comma-separated). Roles granted in
    # the console or by `python -m adremix roles grant` add to these.
    admin_emails_csv: str = Field("", validation_alias="ADREMIX_ADMIN_EMAILS")
    support_emails_csv: str = Field("", validation_alias="ADREMIX_SUPPORT_EMAILS")
    # The most credits one support member may grant or deduct in 24 hours, all users
    # together (admins have no limit).
    support_credit_limit: int = Field(50, ge=0, validation_alias="ADREMIX_SUPPORT_CREDIT_LIMIT")
    storage_dir: str = Field("data/files", validation_alias="ADREMIX_STORAGE_DIR")
    # Decoded pixels of uploads and conversions that may be in memory at once (MB).
    image_memory_mb: int = Field(256, ge=64, validation_alias="ADREMIX_IMAGE_MEMORY_MB")
    session_days: int = Field(30, ge=1, validation_alias="ADREMIX_SESSION_DAYS")
    # A session unused for this long ends even before its absolute lifetime.
    session_idle_hours: int = Field(72, ge=1, validation_alias="ADREMIX_SESSION_IDLE_HOURS")
    # One Redis for everything several workers share: rate-limit counters (in process
    # memory without it), the job queue and Reflex's page state (rxconfig.py).
    redis_url: str = Field("", validation_alias="ADREMIX_REDIS_URL")
    # S3-compatible object storage instead of the local directory when a bucket is named.
    # Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
    # a profile, an instance role).
    s3_bucket: str = Field("", validation_alias="ADREMIX_S3_BUCKET")
    s3_endpoint_url: str = Field("", validation_alias="ADREMIX_S3_ENDPOINT_URL")
    s3_region: str = Field("", validation_alias="ADREMIX_S3_REGION")
    s3_prefix: str = Field("", validation_alias="ADREMIX_S3_PREFIX")
    # Where generation jobs run: in the web process (no extra service), or in separate
    # `python -m adremix worker` processes fed through Redis.
    job_queue: Literal["inprocess", "redis"] = Field(
        "inprocess", validation_alias="ADREMIX_JOB_QUEUE"
    )
    job_lease_s: float = Field(30.0, gt=0, validation_alias="ADREMIX_JOB_LEASE_S")
    job_max_attempts: int = Field(3, ge=1, validation_alias="ADREMIX_JOB_MAX_ATTEMPTS")
    job_sweep_interval_s: float = Field(1.0, gt=0, validation_alias="ADREMIX_JOB_SWEEP_S")
    job_requeue_after_s: float = Field(60.0, gt=0, validation_alias="ADREMIX_JOB_REQUEUE_S")
    worker_concurrency: int = Field(100, ge=1, validation_alias="ADREMIX_WORKER_CONCURRENCY")
    worker_shutdown_s: float = Field(30.0, ge=0, validation_alias="ADREMIX_WORKER_SHUTDOWN_S")
    # Bearer token for GET /metrics (Prometheus); unset: /metrics answers 404.
    metrics_token: str = Field("", validation_alias="ADREMIX_METRICS_TOKEN")
    signup_bonus: int = Field(3, ge=0, validation_alias="ADREMIX_SIGNUP_BONUS")
    # JSON list of {code, name, credits, price_paise}; see .env.example.
    credit_packages: list[CreditPackage] = Field(
        default_factory=lambda: list(DEFAULT_PACKAGES), validation_alias="ADREMIX_CREDIT_PACKAGES"
    )
    # An unpaid order is reused for further presses of Buy on its pack for this long.
    checkout_reuse_minutes: int = Field(
        15, ge=1, le=24 * 60, validation_alias="ADREMIX_CHECKOUT_REUSE_MINUTES"
    )
    # Unfinished checkouts one buyer may have at once (within the reuse window).
    max_open_checkouts: int = Field(5, ge=1, validation_alias="ADREMIX_MAX_OPEN_CHECKOUTS")
    gst_percent: int = Field(18, ge=0, le=100, validation_alias="ADREMIX_GST_PERCENT")
    prices_include_gst: bool = Field(True, validation_alias="ADREMIX_PRICES_INCLUDE_GST")
    low_credit_threshold: int = Field(2, ge=0, validation_alias="ADREMIX_LOW_CREDIT_THRESHOLD")
    seller_name: str = Field("AdRemix", validation_alias="ADREMIX_SELLER_NAME")
    seller_gstin: str = Field("", validation_alias="ADREMIX_SELLER_GSTIN")
    # The supplier's address and GST State code (two digits, e.g. 29 for Karnataka), printed
    # on tax invoices; the State also decides CGST+SGST (same State) or IGST (another).
    seller_address: str = Field("", validation_alias="ADREMIX_SELLER_ADDRESS")
    seller_state: str = Field("29", pattern=r"^\d{2}$", validation_alias="ADREMIX_SELLER_STATE")
    # SAC of what is sold: 998439, "other on-line contents n.e.c." (group 99843).
    sac_code: str = Field("998439", pattern=r"^\d{4,8}$", validation_alias="ADREMIX_SAC")
    # Series prefixes: numbers read PREFIX/26-27/000001 (at most 16 characters, Rule 46).
    invoice_prefix: str = Field(
        "AR", pattern=r"^[A-Z0-9]{1,3}$", validation_alias="ADREMIX_INVOICE_PREFIX"
    )
    credit_note_prefix: str = Field(
        "CN", pattern=r"^[A-Z0-9]{1,3}$", validation_alias="ADREMIX_CREDIT_NOTE_PREFIX"
    )
    # JSON list of {code, name, credits, price_paise, period, interval}; see .env.example.
    subscription_plans: list[SubscriptionPlan] = Field(
        default_factory=lambda: list(DEFAULT_SUBSCRIPTION_PLANS),
        validation_alias="ADREMIX_SUBSCRIPTION_PLANS",
    )
    # Billing cycles a subscription runs for before it completes (Razorpay's total_count).
    subscription_cycles: int = Field(
        120, ge=1, le=1200, validation_alias="ADREMIX_SUBSCRIPTION_CYCLES"
    )
    # Days an enterprise quote's payment link stays payable (Razorpay allows up to 6 months).
    quote_expiry_days: int = Field(30, ge=1, le=180, validation_alias="ADREMIX_QUOTE_EXPIRY_DAYS")
    # Outgoing mail for invoices and credit notes. No host: written as .eml to the outbox.
    smtp_host: str = Field("", validation_alias="ADREMIX_SMTP_HOST")
    smtp_port: int = Field(587, ge=1, le=65535, validation_alias="ADREMIX_SMTP_PORT")
    smtp_username: str = Field("", validation_alias="ADREMIX_SMTP_USERNAME")
    smtp_password: str = Field("", validation_alias="ADREMIX_SMTP_PASSWORD")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", validation_alias="ADREMIX_SMTP_SECURITY"
    )
    mail_from: str = Field("AdRemix <billing@localhost>", validation_alias="ADREMIX_MAIL_FROM")
    outbox_dir: str = Field("data/outbox", validation_alias="ADREMIX_OUTBOX_DIR")

    @field_validator("seller_address")
    @classmethod
    def _address_lines(cls, value: str) -> str:
        # An environment variable is one line: a literal "\n" separates the address's lines.
        return value.replace("\\n", "\n")

    @property
    def is_production(self) -> bool:
        return self.env == "prod"

    @property
    def effective_public_url(self) -> str:
        """The public URL without a trailing slash; `make run`'s address outside production."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return "" if self.is_production else DEV_PUBLIC_URL

    @property
    def allowed_origins(self) -> list[str]:
        """Origins whose pages may call the backend: ours, and localhost outside production."""
        public = self.effective_public_url
        if not public:
            return []
        origins = [public]
        if not self.is_production:
            parts = urlsplit(public)
            port = f":{parts.port}" if parts.port else ""
            for host in ("localhost", "127.0.0.1"):
                origin = f"{parts.scheme}://{host}{port}"
                if origin not in origins:
                    origins.append(origin)
        return origins

    @property
    def google_configured(self) -> bool:
        return bool(self.google_client_id and self.google_client_secret)

    @property
    def dev_sign_in_enabled(self) -> bool:
        """The e-mail-only developer sign-in: never in production, only without Google."""
        return not self.is_production and not self.google_configured

    @property
    def razorpay_configured(self) -> bool:
        return bool(self.razorpay_key_id and self.razorpay_key_secret)

    @property
    def test_checkout_enabled(self) -> bool:
        """The built-in test checkout: never in production, only without Razorpay keys."""
        return not self.is_production and not self.razorpay_configured

    @property
    def admin_emails(self) -> frozenset[str]:
        return _emails(self.admin_emails_csv)

    @property
    def support_emails(self) -> frozenset[str]:
        return _emails(self.support_emails_csv)

    @property
    def signing_key(self) -> str:
        """Key for signed cookies; a fixed one is fine outside production only."""
        if self.secret_key not in PLACEHOLDER_SECRETS:
            return self.secret_key
        if self.is_production:
            raise ConfigurationError("ADREMIX_SECRET_KEY is required in production.")
        return DEV_SECRET_KEY

    def missing_for_production(self) -> list[str]:
        """Names of the settings production cannot start without."""
        if not self.is_production:
            return []
        required = {
            "ADREMIX_SECRET_KEY": self.secret_key not in PLACEHOLDER_SECRETS,
            "GOOGLE_CLIENT_ID": bool(self.google_client_id),
            "GOOGLE_CLIENT_SECRET": bool(self.google_client_secret),
            "RAZORPAY_KEY_ID": bool(self.razorpay_key_id),
            "RAZORPAY_KEY_SECRET": bool(self.razorpay_key_secret),
            "RAZORPAY_WEBHOOK_SECRET": bool(self.razorpay_webhook_secret),
            "OPENAI_API_KEY": bool(self.openai_api_key),
            "ADREMIX_PUBLIC_URL": _is_origin(self.public_url),
            # Tax invoices must name the supplier's address, and its GSTIN when GST is
            # charged (CGST Rules, Rule 46): taking money without them is not lawful.
            "ADREMIX_SELLER_GSTIN": bool(self.seller_gstin.strip()) or self.gst_percent == 0,
            "ADREMIX_SELLER_ADDRESS": bool(self.seller_address.strip()),
        }
        return [name for name, present in required.items() if not present]

    def effective_values(self) -> list[tuple[str, str]]:
        """Every setting by its environment name with the value in force; secrets masked."""
        rows = []
        for name, field in type(self).model_fields.items():
            alias = field.validation_alias
            if not isinstance(alias, str):
                continue
            value = getattr(self, name)
            if isinstance(value, list):
                shown = ", ".join(
                    str(item.model_dump() if isinstance(item, BaseModel) else item)
                    for item in value
                )
            elif alias in SECRET_SETTINGS:
                shown = f"<set, {len(value)} characters>" if value else "<not set>"
            elif isinstance(value, str) and "://" in value:
                shown = _without_password(value)
            else:
                shown = "<not set>" if value in ("", None) else str(value)
            rows.append((alias, shown))
        return rows

    def ensure_startable(self) -> None:
        """Stop start-up with a message naming every missing required setting."""
        if self.job_queue == "redis" and not self.redis_url:
            raise ConfigurationError(
                "ADREMIX_JOB_QUEUE=redis needs ADREMIX_REDIS_URL (see .env.example)."
            )
        missing = self.missing_for_production()
        if missing:
            raise ConfigurationError(
                "AdRemix cannot start in production (ADREMIX_ENV=prod) without: "
                + ", ".join(missing)
                + ". Set them in the environment or in .env (see .env.example)."
            )


@lru_cache(maxsize=16)
def _emails(csv: str) -> frozenset[str]:
    # Cached by the text: every role check (the Users page makes one per row) parsed it anew.
    return frozenset(email.strip().lower() for email in csv.split(",") if email.strip())


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _is_origin(url: str) -> bool:
    """An absolute http(s) URL with a host and nothing after it but an optional slash."""
    parts = urlsplit(url)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.path in ("", "/")
        and not parts.query
        and not parts.fragment
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
