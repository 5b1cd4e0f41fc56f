"""Configuration defaults. Every key can be overridden by a ``KB_<KEY>`` environment variable."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path


class ConfigError(RuntimeError):
    """Raised when the site cannot start safely with the configuration it was given."""


DEFAULTS: dict[str, object] = {
    # "production" unless told otherwise: the safe default for a server.
    "ENV": "production",
    "SITE_NAME": "Support Center",
    # Public base URL (e.g. https://support.example.com): when set, the only source of absolute links.
    "SITE_URL": "",
    # Host names a request may name (400 otherwise); None: the host of SITE_URL when set, else any.
    "TRUSTED_HOSTS": None,
    # Reverse proxies in front whose X-Forwarded-* headers are believed (0: none, headers ignored).
    "PROXY_HOPS": 0,
    "SECRET_KEY": None,
    "DATABASE_URL": None,  # None: SQLite in the instance folder
    # SQLite: how long a writer waits for another to finish before "database is locked".
    "SQLITE_BUSY_TIMEOUT_MS": 15_000,
    # Seconds kb init (or a migration) waits for another host's run on the same PostgreSQL database.
    "INIT_LOCK_TIMEOUT": 600,
    "INDEX_DIR": None,  # None: <instance>/search-index
    "CONTENT_DIR": None,  # None: the content/ folder shipped with the package
    # Mail. An empty MAIL_SERVER writes messages to the log instead of sending them.
    "MAIL_SERVER": "",
    "MAIL_PORT": 25,
    "MAIL_FROM": "Support Center <support@localhost>",
    "MAIL_REPLY_DOMAIN": "localhost",
    "MAIL_TIMEOUT": 10,
    # Sessions and security.
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # How long a login is honoured: the remember cookie's lifetime, and checked on the server for every
    # session too. The remember cookie takes the session cookie's Secure, HttpOnly and SameSite.
    "LOGIN_LIFETIME_DAYS": 30,
    "PASSWORD_RESET_MAX_AGE": 60 * 60,
    "IMAGE_HOSTS": [],  # extra hosts user-content images may come from
    # Operations: /metrics for a bearer of this token (404 while empty); log lines as text or json.
    "METRICS_TOKEN": "",
    "LOG_FORMAT": "text",
    "REQUEST_ID_MAX_LENGTH": 128,  # a longer X-Request-ID from the proxy is replaced by our own
    # Rate limits (Flask-Limiter syntax). RATELIMIT_ENABLED=false turns every limit off.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    # memory:// counts per process, so production refuses it unless this says only one process serves.
    "RATELIMIT_SINGLE_PROCESS": False,
    "RATELIMIT_HEADERS_ENABLED": True,
    "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    # Failed logins per account (by the email typed, whatever the address they come from).
    "LOGIN_ACCOUNT_RATE_LIMIT": "10 per 10 minutes;30 per day",
    "SEARCH_RATE_LIMIT": "60 per minute;600 per hour",
    "SEARCH_CLICK_RATE_LIMIT": "60 per minute;600 per hour",
    "REGISTER_RATE_LIMIT": "5 per minute;20 per hour",
    "RESET_RATE_LIMIT": "5 per minute;20 per hour",
    # Limits on what users send.
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "EMAIL_MAX_LENGTH": 254,
    "DISPLAY_NAME_MAX_LENGTH": 80,
    # Words (whole, any case, also spelled out with dots or spaces) only staff may use in a display name.
    "RESERVED_DISPLAY_NAME_WORDS": ["support", "staff", "admin", "administrator", "moderator", "helpdesk",
                                    "official", "sysadmin"],
    "PASSWORD_MIN_LENGTH": 10,
    "PASSWORD_MAX_LENGTH": 256,
    "API_TOKEN_NAME_MAX_LENGTH": 80,
    "API_TOKENS_PER_USER": 20,
    # How much structure one Markdown text may have (kb.markup.MarkupLimits says what each counts);
    # beyond these Python-Markdown's time grows with the square of the text or it recurses too deep.
    "MARKUP_MAX_NESTING": 16,
    "MARKUP_MAX_LINK_WORK": 150_000,
    "MARKUP_MAX_TAG_WORK": 300_000,
    "MARKUP_MAX_BLOCK_LINES": 2_000,
    "MARKUP_MAX_BLOCK_WORK": 2_000_000,
    "MARKUP_MAX_INLINE_MARKS": 4_000,
    "MARKUP_MAX_CODE_FENCES": 200,
    "MARKUP_MAX_HEADINGS": 200,
    "MARKUP_MAX_TABLE_ROWS": 1_000,
    "MARKUP_MAX_LINK_REFERENCES": 500,
    # User and organisation admin.
    "ORG_DOMAINS_MAX": 20,  # email domains one organisation may list
    "INVITE_MAX_AGE": 60 * 60 * 24 * 7,  # seconds an invitation's set-password link works
    "EMAIL_VERIFY_MAX_AGE": 60 * 60 * 24 * 3,  # seconds an email verification link works
    "UNVERIFIED_MAY_POST": True,  # may accounts whose address is not verified yet post in the forums?
    "FAVICON_MAX_AGE": 60 * 60 * 24,  # seconds browsers may keep /favicon.ico before asking again
    # The product the site supports.
    "PRODUCT_NAME": "HarborSync DR",
    "PRODUCT_VERSIONS": ["7.2", "7.3", "8.0"],
    "CURRENT_PRODUCT_VERSION": "8.0",
    "DEFAULT_TIMEZONE": "UTC",
    "PER_PAGE": 20,
    # How long browsers keep a static file whose URL names its fingerprint (?v=...): a year.
    "STATIC_CACHE_SECONDS": 31_536_000,
}


def apply_defaults(config: dict) -> None:
    """Start from our defaults (they override Flask's own, e.g. SESSION_COOKIE_SAMESITE)."""
    config.update(DEFAULTS)


def finalize(app) -> None:
    """Derive dependent settings once every source has been read."""
    config = app.config
    instance = Path(app.instance_path)
    if config["ENV"] not in ("production", "development", "testing"):
        raise ConfigError(f"KB_ENV must be production, development or testing, not {config['ENV']!r}.")
    if config["ENV"] == "testing":
        config["TESTING"] = True
    if not config.get("SECRET_KEY"):
        if config["ENV"] == "production" and not config.get("TESTING"):
            raise ConfigError(
                "KB_SECRET_KEY is not set. Set it to a long random value before starting the site "
                "in production, e.g. KB_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))'), "
                "or set KB_ENV=development for a local trial."
            )
        config["SECRET_KEY"] = _development_secret(instance)
    _check_rate_limit_storage(config)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{instance / 'kb.sqlite3'}"
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    from kb.proxy import finalize_proxy_config  # kb.proxy needs ConfigError from here

    finalize_proxy_config(config)
    _derive_remember_cookie(config)
    if not config.get("INDEX_DIR"):
        config["INDEX_DIR"] = str(instance / "search-index")
    if not config.get("CONTENT_DIR"):
        from kb import ROOT

        config["CONTENT_DIR"] = str(ROOT / "content")


def _check_rate_limit_storage(config) -> None:
    """In production, limits kept in process memory would be per worker (two workers: twice the logins)."""
    if config["ENV"] != "production" or config.get("TESTING") or not config.get("RATELIMIT_ENABLED"):
        return
    if str(config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://") and not config.get("RATELIMIT_SINGLE_PROCESS"):
        raise ConfigError(
            "KB_RATELIMIT_STORAGE_URI is memory://, which counts rate limits separately in each worker process, "
            "so with several workers every limit lets through several times as much. Set "
            "KB_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (a store all workers share), or, if exactly one "
            "process serves the site, KB_RATELIMIT_SINGLE_PROCESS=true."
        )


def _derive_remember_cookie(config) -> None:
    """The remember cookie is as well protected as the session cookie, and lives LOGIN_LIFETIME_DAYS."""
    days = config["LOGIN_LIFETIME_DAYS"]
    if isinstance(days, bool) or not isinstance(days, int) or not 0 < days <= 3650:
        raise ConfigError(f"KB_LOGIN_LIFETIME_DAYS must be a whole number of days from 1 to 3650, not {days!r}.")
    config["REMEMBER_COOKIE_DURATION"] = timedelta(days=days)
    config["REMEMBER_COOKIE_SECURE"] = bool(config["SESSION_COOKIE_SECURE"])
    config["REMEMBER_COOKIE_HTTPONLY"] = bool(config["SESSION_COOKIE_HTTPONLY"])
    config["REMEMBER_COOKIE_SAMESITE"] = config["SESSION_COOKIE_SAMESITE"]


def _development_secret(instance: Path) -> str:
    """Keep one generated key per instance so development sessions survive restarts."""
    path = instance / "dev-secret-key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    return key
