"""Settings read once from the environment into one frozen object."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import load_dotenv
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def env_file() -> Path:
    """Name the file that fills unset settings: ENV_FILE, else .env in the project root."""
    return Path(os.environ.get("ENV_FILE") or PROJECT_ROOT / ".env")


def load_env_file() -> None:
    """Copy the env file's variables into the environment; variables already set win."""
    load_dotenv(env_file(), override=False)


# On import, before anything reads the environment: `make run`, the flask CLI and
# gunicorn all import this module first, so one place serves all three.
load_env_file()
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve()

# Stripe's minimum charge is about 0.50 in most currencies; we default to 1.00 and cap
# single gifts at 10,000.00 so a typo (or a card tester) cannot create a huge charge.
DEFAULT_CURRENCY_LIMITS = "eur:100:1000000,gbp:100:1000000,usd:100:1000000"
# The demo's fictional paper: fine for `make run`, refused in production.
DEMO_PUBLICATION_NAME = "The Harbour Courier"
DEFAULT_BRAND_COLOR = "#0b5fff"
# The languages with complete catalogs in translations/ (the first is the fallback).
LANGUAGES = ("en", "de", "fr")
# Stripe's standard card pricing (percentage, fixed fee in minor units) per currency:
# what a reader who ticks "cover the fees" adds. Empty: no fee cover offered.
DEFAULT_FEE_COVER = "eur:1.5:25,gbp:1.5:20,usd:2.9:30"


class SettingsError(Exception):
    """A configuration problem, with a one-line message for the operator."""


@dataclass(frozen=True)
class CurrencyLimits:
    """Smallest and largest single donation in one currency, in minor units."""

    minimum: int
    maximum: int


@dataclass(frozen=True)
class FeeRule:
    """A processing fee: a percentage in basis points (1.5% = 150) plus a fixed part."""

    basis_points: int
    fixed_minor: int


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from the environment, validated once."""

    env: str = "development"
    database_url: str = f"sqlite:///{INSTANCE_DIR / 'contributions.db'}"
    # Give up on reaching the database (and on waiting for a pooled connection) after this.
    database_connect_timeout_seconds: int = 5
    # PostgreSQL cancels any statement running longer (0: no limit), so a stuck query
    # frees its request thread and connection instead of holding them.
    database_statement_timeout_ms: int = 10_000
    secret_key: str = field(default="", repr=False)
    stripe_secret_key: str = field(default="", repr=False)
    stripe_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    stripe_api_base: str = ""
    # Read timeout for each Stripe request; the stripe package retries twice on top.
    stripe_timeout_seconds: float = 20.0
    # What a reader's request (checkout, session status, portal) may wait on Stripe in
    # all, connects, reads and the one retry together.
    stripe_reader_budget_seconds: float = 10.0
    # Reader requests inside a Stripe call at once, per process: keep it below the web
    # server's threads, so the rest always serve appeals, the widget and beacons.
    stripe_reader_slots: int = 2
    # Consecutive Stripe failures that open the breaker, and how long it stays open.
    stripe_breaker_failures: int = 5
    stripe_breaker_cooldown_seconds: float = 30.0
    allow_live_stripe_keys: bool = False
    public_base_url: str = "http://127.0.0.1:5000"
    allowed_embed_origins: tuple[str, ...] = ()
    default_currency: str = "eur"
    # The language of readers whose page, link or browser names none we have.
    default_language: str = "en"
    currency_limits: Mapping[str, CurrencyLimits] = field(
        default_factory=lambda: _parse_currency_limits(DEFAULT_CURRENCY_LIMITS)
    )
    supporter_window_days: int = 365
    supporter_count_offset: int = 0
    redis_url: str = ""
    trusted_proxy_count: int = 0
    appeal_cache_seconds: int = 30
    dismiss_days: int = 7
    # Beacons counted per client (IP) and day; more are accepted but not counted.
    appeal_beacon_daily_cap: int = 500
    # The request header the operator's CDN sets to the reader's country (e.g.
    # CF-IPCountry). Empty: no geolocation. Setting it says the CDN sets that header on
    # every request and strips it from clients; otherwise readers could choose it.
    country_header: str = ""
    # Below this many supporters no number is shown (copy drops its count sentence).
    social_proof_min_count: int = 10
    # The goal meter shows from this share of the goal (percent) up.
    goal_meter_min_percent: int = 10
    fee_cover: Mapping[str, FeeRule] = field(
        default_factory=lambda: _parse_fee_cover(DEFAULT_FEE_COVER)
    )
    checkout_rate_limit: str = "10 per minute;60 per hour"
    log_level: str = "INFO"
    # The publication readers see on every page: its name, home page, logo, colour, inbox.
    publication_name: str = DEMO_PUBLICATION_NAME
    publication_url: str = ""
    brand_logo_url: str = ""
    brand_color: str = DEFAULT_BRAND_COLOR
    contact_email: str = ""
    # smtp://user:password@host:587 (STARTTLS), smtps://…:465 (TLS), smtp://host:25 (plain).
    smtp_url: str = field(default="", repr=False)
    mail_from: str = "Reader contributions <no-reply@localhost>"
    smtp_timeout_seconds: float = 20.0
    # The supporter pass: a PEM EC P-256 private key (development keeps one in instance/),
    # and how often a pass holder's widget asks for a fresh pass.
    supporter_pass_private_key: str = field(default="", repr=False)
    supporter_pass_refresh_seconds: int = 86_400

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_testing(self) -> bool:
        return self.env == "test"

    @property
    def stripe_mode(self) -> str:
        """'sandbox', 'test' or 'live', from the key and API base in use."""
        if self.stripe_api_base:
            return "sandbox"
        return "live" if self.stripe_secret_key.startswith("sk_live_") else "test"

    @property
    def supported_currencies(self) -> tuple[str, ...]:
        return tuple(self.currency_limits)

    @property
    def public_origin(self) -> str:
        return _origin(self.public_base_url)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """Return a copy with some fields replaced, validated like the environment."""
        return replace(self, **overrides).validated()

    def validated(self) -> Settings:
        """Check cross-field rules; raise SettingsError with one clear line."""
        if self.env not in {"development", "production", "test"}:
            raise SettingsError(
                f"APP_ENV must be development, production or test, not {self.env!r}"
            )
        if self.is_production:
            missing = [
                name
                for name, value in (
                    ("SECRET_KEY", self.secret_key),
                    ("STRIPE_SECRET_KEY", self.stripe_secret_key),
                    ("STRIPE_WEBHOOK_SECRET", self.stripe_webhook_secrets),
                    ("DATABASE_URL", os.environ.get("DATABASE_URL", "set")),
                    ("SUPPORTER_PASS_PRIVATE_KEY", self.supporter_pass_private_key),
                )
                if not value
            ]
            if self.publication_name == DEMO_PUBLICATION_NAME:
                missing.append("PUBLICATION_NAME")
            if missing:
                raise SettingsError(f"production needs {', '.join(missing)} in the environment")
            if len(self.secret_key) < 32:
                raise SettingsError("SECRET_KEY must be at least 32 characters in production")
        key = self.stripe_secret_key
        if key and not key.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")):
            raise SettingsError("STRIPE_SECRET_KEY must start with sk_test_ or sk_live_")
        if "_live_" in key and not self.allow_live_stripe_keys:
            raise SettingsError(
                "STRIPE_SECRET_KEY is a live key; set STRIPE_ALLOW_LIVE_KEYS=1 to take real money"
            )
        if self.default_currency not in self.currency_limits:
            raise SettingsError(
                f"DEFAULT_CURRENCY {self.default_currency!r} is not one of "
                f"{', '.join(self.currency_limits)}"
            )
        if self.default_language not in LANGUAGES:
            raise SettingsError(
                f"DEFAULT_LANGUAGE must be one of {', '.join(LANGUAGES)}, "
                f"not {self.default_language!r}"
            )
        _check_brand(self)
        for url_name, url in (
            ("PUBLIC_BASE_URL", self.public_base_url),
            ("STRIPE_API_BASE", self.stripe_api_base),
            ("PUBLICATION_URL", self.publication_url),
        ):
            if url and urlsplit(url).scheme not in {"http", "https"}:
                raise SettingsError(f"{url_name} must be an http(s) URL, not {url!r}")
        if self.smtp_url and urlsplit(self.smtp_url).scheme not in {"smtp", "smtps"}:
            raise SettingsError("SMTP_URL must start with smtp:// or smtps://")
        if "@" not in self.mail_from:
            raise SettingsError(f"MAIL_FROM must hold an email address, not {self.mail_from!r}")
        _check_database_url(self.database_url)
        if self.supporter_pass_private_key:
            from service.core.pass_pem import PassKeyError, parse_private_key

            try:
                parse_private_key(self.supporter_pass_private_key)
            except PassKeyError as error:
                raise SettingsError(f"SUPPORTER_PASS_PRIVATE_KEY is {error}") from None
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every setting from the environment."""
        env = os.environ if environ is None else environ
        app_env = env.get("APP_ENV", "development").strip().lower()
        secret_key = env.get("SECRET_KEY", "")
        if not secret_key and app_env != "production":
            # A per-process key keeps development working; production must set one.
            secret_key = secrets.token_urlsafe(32)
        return cls(
            env=app_env,
            database_url=env.get("DATABASE_URL") or cls.database_url,
            database_connect_timeout_seconds=_int(
                env, "DATABASE_CONNECT_TIMEOUT_SECONDS", 5, minimum=1
            ),
            database_statement_timeout_ms=_int(
                env, "DATABASE_STATEMENT_TIMEOUT_MS", 10_000, minimum=0
            ),
            secret_key=secret_key,
            stripe_secret_key=env.get("STRIPE_SECRET_KEY", "").strip(),
            stripe_webhook_secrets=_split(env.get("STRIPE_WEBHOOK_SECRET", "")),
            stripe_api_base=env.get("STRIPE_API_BASE", "").strip().rstrip("/"),
            allow_live_stripe_keys=_flag(env, "STRIPE_ALLOW_LIVE_KEYS"),
            stripe_timeout_seconds=_int(env, "STRIPE_TIMEOUT_SECONDS", 20, minimum=1),
            stripe_reader_budget_seconds=_int(env, "STRIPE_READER_BUDGET_SECONDS", 10, minimum=2),
            stripe_reader_slots=_int(env, "STRIPE_READER_SLOTS", 2, minimum=1),
            stripe_breaker_failures=_int(env, "STRIPE_BREAKER_FAILURES", 5, minimum=1),
            stripe_breaker_cooldown_seconds=_int(
                env, "STRIPE_BREAKER_COOLDOWN_SECONDS", 30, minimum=1
            ),
            public_base_url=(env.get("PUBLIC_BASE_URL") or cls.public_base_url).rstrip("/"),
            allowed_embed_origins=tuple(
                _origin(o) for o in _split(env.get("ALLOWED_EMBED_ORIGINS", ""))
            ),
            default_currency=env.get("DEFAULT_CURRENCY", "eur").strip().lower(),
            default_language=env.get("DEFAULT_LANGUAGE", "").strip().lower() or "en",
            currency_limits=_parse_currency_limits(
                env.get("CURRENCY_LIMITS", DEFAULT_CURRENCY_LIMITS)
            ),
            supporter_window_days=_int(env, "SUPPORTER_WINDOW_DAYS", 365, minimum=1),
            supporter_count_offset=_int(env, "SUPPORTER_COUNT_OFFSET", 0, minimum=0),
            redis_url=env.get("REDIS_URL", "").strip(),
            trusted_proxy_count=_int(env, "TRUSTED_PROXY_COUNT", 0, minimum=0),
            appeal_cache_seconds=_int(env, "APPEAL_CACHE_SECONDS", 30, minimum=0),
            dismiss_days=_int(env, "APPEAL_DISMISS_DAYS", 7, minimum=0),
            appeal_beacon_daily_cap=_int(env, "APPEAL_BEACON_DAILY_CAP", 500, minimum=0),
            country_header=_header_name(env.get("COUNTRY_HEADER", "")),
            social_proof_min_count=_int(env, "SOCIAL_PROOF_MIN_COUNT", 10, minimum=0),
            goal_meter_min_percent=_int(env, "GOAL_METER_MIN_PERCENT", 10, minimum=0),
            fee_cover=_parse_fee_cover(env.get("FEE_COVER", DEFAULT_FEE_COVER)),
            checkout_rate_limit=env.get("CHECKOUT_RATE_LIMIT", cls.checkout_rate_limit),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            publication_name=env.get("PUBLICATION_NAME", "").strip() or DEMO_PUBLICATION_NAME,
            publication_url=env.get("PUBLICATION_URL", "").strip(),
            brand_logo_url=env.get("BRAND_LOGO_URL", "").strip(),
            brand_color=env.get("BRAND_COLOR", "").strip().lower() or DEFAULT_BRAND_COLOR,
            contact_email=env.get("CONTACT_EMAIL", "").strip(),
            smtp_url=env.get("SMTP_URL", "").strip(),
            mail_from=env.get("MAIL_FROM", "").strip() or cls.mail_from,
            smtp_timeout_seconds=_int(env, "SMTP_TIMEOUT_SECONDS", 20, minimum=1),
            supporter_pass_private_key=env.get("SUPPORTER_PASS_PRIVATE_KEY", "").strip(),
            supporter_pass_refresh_seconds=_int(
                env, "SUPPORTER_PASS_REFRESH_SECONDS", 86_400, minimum=60
            ),
        ).validated()


def _check_brand(settings: Settings) -> None:
    """Refuse brand settings that would break pages or let markup into them."""
    if not 0 < len(settings.publication_name) <= 120 or "<" in settings.publication_name:
        raise SettingsError("PUBLICATION_NAME must be 1 to 120 characters of plain text")
    if not re.fullmatch(r"#[0-9a-f]{6}", settings.brand_color):
        raise SettingsError(f"BRAND_COLOR must look like #0b5fff, not {settings.brand_color!r}")
    logo = settings.brand_logo_url
    if logo and not (logo.startswith("/") or urlsplit(logo).scheme == "https"):
        raise SettingsError("BRAND_LOGO_URL must be an https URL or a path on this service")
    email = settings.contact_email
    if email and not re.fullmatch(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+", email):
        raise SettingsError(f"CONTACT_EMAIL must be an email address, not {email!r}")


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SettingsError(f"{url!r} is not an origin like https://news.example")
    return f"{parts.scheme}://{parts.netloc}".lower()


def _parse_currency_limits(raw: str) -> dict[str, CurrencyLimits]:
    """Parse 'eur:100:1000000,gbp:100:1000000' (code:minimum:maximum in minor units)."""
    limits: dict[str, CurrencyLimits] = {}
    for item in _split(raw):
        try:
            code, low, high = item.split(":")
            minimum, maximum = int(low), int(high)
        except ValueError:
            raise SettingsError(
                f"CURRENCY_LIMITS entry {item!r} must look like eur:100:1000000"
            ) from None
        code = code.strip().lower()
        if len(code) != 3 or not code.isalpha() or not 0 < minimum <= maximum:
            raise SettingsError(f"CURRENCY_LIMITS entry {item!r} is not a valid code:min:max")
        limits[code] = CurrencyLimits(minimum, maximum)
    if not limits:
        raise SettingsError("CURRENCY_LIMITS names no currency")
    return limits


def _header_name(raw: str) -> str:
    name = raw.strip()
    if name and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}", name):
        raise SettingsError(f"COUNTRY_HEADER must be a header name like CF-IPCountry, not {raw!r}")
    return name


def _parse_fee_cover(raw: str) -> dict[str, FeeRule]:
    """Parse 'eur:1.5:25,gbp:1.5:20' (code:percent:fixed minor units); empty: none."""
    rules: dict[str, FeeRule] = {}
    for item in _split(raw):
        try:
            code, percent, fixed = item.split(":")
            basis_points = round(float(percent) * 100)
            fixed_minor = int(fixed)
        except ValueError:
            raise SettingsError(f"FEE_COVER entry {item!r} must look like eur:1.5:25") from None
        code = code.strip().lower()
        if len(code) != 3 or not code.isalpha() or not 0 <= basis_points < 5000:
            raise SettingsError(f"FEE_COVER entry {item!r} is not a valid code:percent:fixed")
        if fixed_minor < 0:
            raise SettingsError(f"FEE_COVER entry {item!r} has a negative fixed fee")
        rules[code] = FeeRule(basis_points, fixed_minor)
    return rules


def _check_database_url(url: str) -> None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingsError(
            "DATABASE_URL is not a database URL (try sqlite:///path or postgresql://...)"
        ) from None
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise SettingsError(f"DATABASE_URL must be SQLite or PostgreSQL, not {parsed.drivername}")
