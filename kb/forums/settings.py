"""Forum limits and switches; applied with setdefault so instance config and KB_* variables win."""

from __future__ import annotations

DEFAULTS: dict[str, object] = {
    # Where the bundled categories live; None: <CONTENT_DIR>/forums.yml.
    "FORUMS_CATEGORIES_FILE": None,
    # Lists and pages.
    "FORUMS_THREADS_PER_PAGE": 20,
    "FORUMS_POSTS_PER_PAGE": 50,
    "FORUMS_NOTIFICATIONS_PER_PAGE": 30,
    "FORUMS_FLAGS_PER_PAGE": 50,
    "FORUMS_FEED_ITEMS": 30,
    "FORUMS_HOME_THREADS": 5,
    # The forum front page's Latest and Unanswered lists, and the home page's Unanswered list.
    "FORUMS_LATEST_THREADS": 15,
    "FORUMS_UNANSWERED_THREADS": 8,
    "FORUMS_HOME_UNANSWERED_THREADS": 3,
    "FORUMS_SITEMAP_THREADS": 5000,
    "FORUMS_DEFLECTION_RESULTS": 5,
    # Forum category slug -> knowledge-base category slug for articles drafted from threads; a forum
    # category not listed goes to the article category with its own slug or name, if there is one.
    "FORUMS_ARTICLE_CATEGORIES": {
        "replication": "replication-and-protection-groups",
        "failover": "failover-and-recovery",
        "upgrades": "upgrades-and-maintenance",
        "scripting-and-api": "administration-and-automation",
    },
    # What users send.
    "FORUMS_TITLE_MIN_LENGTH": 8,
    "FORUMS_TITLE_MAX_LENGTH": 160,
    "FORUMS_POST_MIN_LENGTH": 2,
    "FORUMS_POST_MAX_LENGTH": 20_000,
    "FORUMS_TAGS_MAX": 5,
    "FORUMS_TAG_MAX_LENGTH": 30,
    "FORUMS_FLAG_NOTE_MAX_LENGTH": 500,
    "FORUMS_DEFLECTION_QUERY_MAX_LENGTH": 200,
    # A question moved into a case travels in the session cookie, so it is cut to this length.
    "FORUMS_CASE_DRAFT_MAX_LENGTH": 2_000,
    "FORUMS_TAGS_FIELD_MAX_LENGTH": 500,
    # Drafts kept for visitors who had to sign in first, in seconds; one per visitor (a new one
    # replaces it), and this many a visitor's address may leave.
    "FORUMS_DRAFT_MAX_AGE": 24 * 60 * 60,
    "FORUMS_DRAFT_RATE_LIMIT": "10 per hour",
    # New accounts (younger than this many seconds) may post only this often.
    "FORUMS_NEW_ACCOUNT_AGE": 3 * 24 * 60 * 60,
    "FORUMS_NEW_ACCOUNT_POST_RATE_LIMIT": "3 per 10 minutes;10 per day",
    # Everyone else, as a guard against runaway scripts.
    "FORUMS_POST_RATE_LIMIT": "30 per minute",
    # The composer's answer look-ups while typing (per visitor).
    "FORUMS_ANSWERS_RATE_LIMIT": "60 per minute",
    # Unsubscribe links in notification emails stay valid this long, in seconds.
    "FORUMS_UNSUBSCRIBE_MAX_AGE": 365 * 24 * 60 * 60,
    # Extra secret patterns {name: regex} and built-in pattern names to switch off.
    "FORUMS_SECRET_PATTERNS": {},
    "FORUMS_SECRET_PATTERNS_DISABLED": [],
    # Seconds the secret scanner may spend on one text, all rules together (a rule still running then
    # is skipped and logged), and the length of the adversarial texts a staff pattern must get
    # through, within that time, to be saved.
    "FORUMS_SECRET_SCAN_TIMEOUT": 0.1,
    "FORUMS_SECRET_PROBE_LENGTH": 5_000,
}


def apply(config) -> None:
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
