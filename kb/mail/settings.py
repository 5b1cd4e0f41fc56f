"""Configuration defaults of outbound mail and the worker; KB_* environment values and instance config win."""

from __future__ import annotations

DEFAULTS: dict[str, object] = {
    # How the worker talks to the relay (KB_MAIL_SERVER, _PORT, _TIMEOUT and _FROM live in kb.config).
    "MAIL_USE_TLS": False,  # STARTTLS after connecting (port 587)
    "MAIL_USE_SSL": False,  # TLS from the first byte (port 465)
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_SSL_CA_FILE": "",  # a CA bundle for a relay with a private certificate; empty: the system's
    # Delivery: at most this many messages over one SMTP connection per round.
    "MAIL_BATCH_SIZE": 100,
    # A message the relay refuses for now is tried again after RETRY_BASE * 2**(attempts-1) seconds,
    # capped at RETRY_MAX, and marked failed after MAX_ATTEMPTS tries.
    "MAIL_MAX_ATTEMPTS": 8,
    "MAIL_RETRY_BASE": 60,
    "MAIL_RETRY_MAX": 6 * 60 * 60,
    # /healthz reports an error when a message has waited longer than this many seconds.
    "MAIL_BACKLOG_MAX_AGE": 15 * 60,
    # Sent messages are deleted from the outbox after this many days (failed ones stay until retried).
    "MAIL_SENT_KEEP_DAYS": 14,
    "MAIL_ADMIN_PER_PAGE": 50,
    # How often the worker prunes sent mail and expired drafts (seconds).
    "WORKER_CLEANUP_INTERVAL": 60 * 60,
    # The worker looks for new mail this often (seconds) when it has nothing to do.
    "WORKER_POLL_INTERVAL": 2.0,
}


def apply(config) -> None:
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
