"""Defaults for the knowledge base; each can be overridden by a KB_<KEY> environment variable."""

from __future__ import annotations

DEFAULTS: dict[str, object] = {
    # Limits on what staff type into the editor.
    "ARTICLE_TITLE_MAX_LENGTH": 200,
    "ARTICLE_SUMMARY_MAX_LENGTH": 300,
    "ARTICLE_BODY_MAX_LENGTH": 200_000,
    "ARTICLE_TAGS_MAX": 12,
    "ARTICLE_TAG_MAX_LENGTH": 40,
    "ARTICLE_REVISION_MESSAGE_MAX_LENGTH": 200,
    # "Was this helpful?" feedback.
    "FEEDBACK_COMMENT_MAX_LENGTH": 1000,
    "FEEDBACK_RATE_LIMIT": "10 per minute;100 per hour",
    "ARTICLE_PREVIEW_RATE_LIMIT": "60 per minute",
    # Freshness: when an article needs a staff review.
    "ARTICLE_REVIEW_MAX_AGE_DAYS": 180,
    "ARTICLE_HELPFUL_RATIO_THRESHOLD": 0.6,
    "ARTICLE_HELPFUL_MIN_VOTES": 5,
    "ARTICLE_HELPFUL_WINDOW_DAYS": 90,
    # How many items lists show.
    "ARTICLE_RELATED_COUNT": 5,
    "HOME_POPULAR_COUNT": 6,
    "HOME_RECENT_COUNT": 6,
    "ARTICLE_FEED_COUNT": 30,
}


def apply(config) -> None:
    """Fill in every default the environment or instance config did not set."""
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
