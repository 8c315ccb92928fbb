"""Settings from the environment: defaults, validation, and refusing live keys."""

from __future__ import annotations

import pytest

from service.core.settings import Settings, SettingsError


def test_development_defaults_need_nothing_set() -> None:
    settings = Settings.from_env({})
    assert settings.env == "development"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.default_currency == "eur"
    assert settings.supporter_window_days == 365
    assert len(settings.secret_key) >= 32


def test_production_without_secrets_stops_with_one_line() -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"APP_ENV": "production"})
    message = str(error.value)
    assert "SECRET_KEY" in message and "STRIPE_SECRET_KEY" in message
    assert "\n" not in message


def test_a_live_key_is_refused_without_the_allow_flag() -> None:
    with pytest.raises(SettingsError, match="live key"):
        Settings.from_env({"STRIPE_SECRET_KEY": "sk_live_" + "a" * 24})
    allowed = Settings.from_env(
        {"STRIPE_SECRET_KEY": "sk_live_" + "a" * 24, "STRIPE_ALLOW_LIVE_KEYS": "1"}
    )
    assert allowed.stripe_mode == "live"


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "SQLite or PostgreSQL"),
        ({"SUPPORTER_WINDOW_DAYS": "a year"}, "whole number"),
        ({"SUPPORTER_COUNT_OFFSET": "-5"}, "at least 0"),
        ({"DEFAULT_CURRENCY": "xyz"}, "DEFAULT_CURRENCY"),
        ({"CURRENCY_LIMITS": "eur:100"}, "CURRENCY_LIMITS"),
        ({"ALLOWED_EMBED_ORIGINS": "news.example"}, "origin"),
        ({"STRIPE_SECRET_KEY": "pk_test_123"}, "sk_test_"),
    ],
)
def test_bad_values_get_a_clear_message(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env(environ)


def test_webhook_secrets_accept_a_list_for_rotation() -> None:
    settings = Settings.from_env({"STRIPE_WEBHOOK_SECRET": "whsec_new, whsec_old"})
    assert settings.stripe_webhook_secrets == ("whsec_new", "whsec_old")


def test_repr_hides_secrets() -> None:
    settings = Settings.from_env({"STRIPE_SECRET_KEY": "sk_test_hidden123"})
    assert "sk_test_hidden123" not in repr(settings)
