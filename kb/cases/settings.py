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
    # Email in: the largest message `kb mail-in` accepts, in bytes.
    "CASE_MAILIN_MAX_BYTES": 1024 * 1024,
    # The SLA clock: a case is at risk when less than this share of its target is left.
    "CASE_AT_RISK_FRACTION": 0.25,
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
