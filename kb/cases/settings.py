"""Configuration defaults of the cases feature; KB_* environment values and instance config win."""

from __future__ import annotations

DEFAULTS: dict[str, object] = {
    # Lengths of what customers type.
    "CASE_TITLE_MAX_LENGTH": 200,
    "CASE_DESCRIPTION_MAX_LENGTH": 20_000,
    "CASE_COMMENT_MAX_LENGTH": 20_000,
    "CASE_FIELD_MAX_LENGTH": 2_000,  # business impact and environment details
    "CASE_VERSION_MAX_LENGTH": 40,  # product version and build
    "CASE_ESCALATION_REASON_MAX_LENGTH": 2_000,
    "CASE_SEVERITY_REASON_MAX_LENGTH": 2_000,  # the reason staff give for a severity change
    # The JSON API.
    "CASE_API_MAX_BODY": 64 * 1024,
    "CASE_API_RATE_LIMIT": "30 per minute;300 per hour",
    "CASE_API_PER_PAGE": 50,
    # Pages.
    "CASE_RATE_LIMIT": "20 per minute;200 per hour",  # POSTs to case pages per client
    "CASES_PER_PAGE": 25,
    "CASE_QUEUE_PER_PAGE": 50,
    # Email in: the largest message `kb mail-in` accepts, in bytes, attachments included.
    "MAILIN_MAX_BYTES": 25 * 1024 * 1024,
    # Attachments: how many files one comment (or the new-case form) may carry, and the most a case may hold.
    "ATTACHMENT_MAX_FILES": 10,
    "ATTACHMENT_CASE_MAX_BYTES": 4 * 1024 * 1024 * 1024,
    # Reply addresses are per recipient and stop working this many days after the email was sent.
    "MAILIN_TOKEN_MAX_AGE_DAYS": 90,
    # A staff reply by email is a comment; it stops the first-response clock only when this is true.
    "MAILIN_STAFF_FIRST_RESPONSE": False,
    # Authentication-Results: trust only headers from this authserv-id (empty: any), and whether a
    # passing DMARC (or aligned SPF) result for the sender's domain is required.
    "MAILIN_AUTHSERV_ID": "",
    "MAILIN_REQUIRE_AUTHENTICATION": False,
    # Bounded parsing: MIME nesting, parts, one header field, and the HTML read from an HTML-only reply.
    "MAILIN_MAX_MIME_DEPTH": 20,
    "MAILIN_MAX_MIME_PARTS": 200,
    "MAILIN_MAX_HEADER_BYTES": 16 * 1024,
    "MAILIN_MAX_HTML_CHARS": 200_000,
    "MAILIN_MAX_HTML_TAGS": 3_000,  # start and end tags
    # The SLA clock: a case is at risk when less than this share of its target is left.
    "CASE_AT_RISK_FRACTION": 0.25,
    # How often `kb worker` runs the SLA sweep, in seconds (`kb sla-sweep` is the same sweep, for cron).
    "SLA_SWEEP_INTERVAL": 60,
    # Overrides of the support policy (None keeps the defaults of kb.cases.sla):
    # "09:00", "17:00", [0, 1, 2, 3, 4] (Monday = 0), {"2/premium": "5 hours", "4/standard": "5 business days"}.
    "CASE_BUSINESS_OPENS": None,
    "CASE_BUSINESS_CLOSES": None,
    "CASE_BUSINESS_WEEKDAYS": None,
    "CASE_SLA_TARGETS": None,
    # Overrides of the update cadence after the first response, same form: {"1/premium": "1 hours"}.
    "CASE_UPDATE_TARGETS": None,
    # Case numbers start above this, so they never look like forum thread ids.
    "CASE_NUMBER_OFFSET": 10_000,
    # The knowledge-base article on escalating a case, linked from every case page.
    "CASE_ESCALATION_ARTICLE": "/articles/escalating-a-support-case",
    "SUPPORT_PHONE": "+1 555 0100",
}


def apply(config) -> None:
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)


def check_policy(app) -> None:
    """Refuse to start with business hours or targets the SLA clock cannot use."""
    from kb.cases import sla
    from kb.config import ConfigError

    try:
        sla.make_policy(
            opens=app.config.get("CASE_BUSINESS_OPENS"),
            closes=app.config.get("CASE_BUSINESS_CLOSES"),
            weekdays=app.config.get("CASE_BUSINESS_WEEKDAYS"),
            targets=app.config.get("CASE_SLA_TARGETS"),
            update_targets=app.config.get("CASE_UPDATE_TARGETS"),
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError("The support policy settings (KB_CASE_BUSINESS_*, KB_CASE_SLA_TARGETS, KB_CASE_UPDATE_TARGETS) "
                          f"are not valid: {exc}") from None
