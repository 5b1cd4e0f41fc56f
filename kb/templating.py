"""Template filters shared by every feature: times in the viewer's zone, durations in words."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app
from flask_login import current_user


def viewer_zone() -> ZoneInfo:
    name = getattr(current_user, "timezone", None) or current_app.config["DEFAULT_TIMEZONE"]
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def localtime(value: datetime | None, fmt: str = "%d %b %Y %H:%M %Z") -> str:
    """A stored UTC time shown in the viewer's timezone."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(viewer_zone()).strftime(fmt)


def zonetime(value: datetime | None, zone: str, fmt: str = "%d %b %H:%M %Z") -> str:
    """A stored UTC time in a named timezone (e.g. the customer's), UTC when the name is unusable."""
    if value is None:
        return ""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        tz = ZoneInfo("UTC")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(tz).strftime(fmt)


def duration_words(delta: timedelta) -> str:
    """'2 days 3 hours', '45 minutes', 'less than a minute': the two largest units."""
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return "less than a minute"
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return " ".join(parts[:2])


def time_ago(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return ""
    now = now or datetime.now(timezone.utc)
    delta = now - value
    if delta.total_seconds() < 0:
        return "in " + duration_words(delta)
    return duration_words(delta) + " ago"


def register_filters(app: Flask) -> None:
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(zonetime, "zonetime")
    app.add_template_filter(duration_words, "duration_words")
    app.add_template_filter(time_ago, "time_ago")

    @app.template_filter("isotime")
    def isotime(value: datetime | None) -> str:
        return value.astimezone(timezone.utc).isoformat() if value else ""
