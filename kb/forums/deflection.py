"""Answers before asking: spot outages in a draft question and find existing answers for its title."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class OutageSignal:
    """Something in the text that points at an outage; ``severity`` is the policy's suggestion for it."""

    label: str
    severity: int


_WORD_GAP = r"[\s\w,'-]{0,40}?"

_SIGNALS: tuple[tuple[re.Pattern, str, int], ...] = (
    (
        re.compile(
            rf"\b(?:production|prod|live)\b{_WORD_GAP}\b(?:is|are|went|has gone|goes)?\s*(?:down|offline|outage)\b"
            rf"|\bdown in (?:production|prod)\b|\bproduction (?:outage|incident)\b",
            re.I,
        ),
        "Production is down",
        1,
    ),
    (
        re.compile(
            rf"\blive failover\b{_WORD_GAP}\b(?:fail(?:s|ed|ing|ure)?|hang(?:s|ing)?|hung|stuck|broken|not work\w*)\b"
            rf"|\b(?:fail(?:ed|s|ing)?|cannot|can't|unable to)\b{_WORD_GAP}\blive failover\b"
            rf"|\bfailover\b{_WORD_GAP}\bin production\b{_WORD_GAP}\bfail\w*\b",
            re.I,
        ),
        "A live failover failed",
        1,
    ),
    (
        re.compile(
            r"\b(?:purple|blue) screen\b|\bPSOD\b|\bBSOD\b|\bhost crash(?:ed|es)?\b"
            r"|\b(?:cannot|can't|unable to) (?:recover|fail ?over|migrate)\b"
            r"|\breplication (?:is |has )?(?:completely )?(?:down|stopped)\b(?![\w\s]{0,20}\btest)",
            re.I,
        ),
        "Recovery or replication is not possible",
        1,
    ),
    (re.compile(r"\boutage\b", re.I), "An outage", 1),
    (
        re.compile(
            r"\b(?:RPO|RTO)s?\b[\w\s/-]{0,30}?\b(?:missed|exceeded|breached|not (?:being )?met|violated|alarm|alert)\b"
            r"|\b(?:miss(?:ed|ing)?|exceed(?:ed|ing)?|breach(?:ed|ing)?|not meeting|can't meet|cannot meet)\b"
            r"[\w\s/-]{0,30}?\b(?:RPO|RTO)s?\b",
            re.I,
        ),
        "An RPO or RTO target is missed",
        2,
    ),
)


def detect_outage(text: str) -> list[OutageSignal]:
    """The outage signals a draft question shows, most severe first; empty for ordinary questions."""
    if not text:
        return []
    found = [OutageSignal(label, severity) for pattern, label, severity in _SIGNALS if pattern.search(text)]
    return sorted(found, key=lambda signal: signal.severity)


def suggested_severity(signals: list[OutageSignal]) -> int | None:
    return min((signal.severity for signal in signals), default=None)


def _words(query: str) -> list[str]:
    return [w for w in re.findall(r"[\w.-]+", query.lower()) if len(w) >= 4][:8]


def find_answers(query: str, viewer, limit: int) -> list[dict]:
    """Articles and solved threads that may already answer a question, as plain dicts for page and JSON.

    Uses the site search when it is installed (articles and threads, filtered by what the viewer may
    read); otherwise falls back to solved threads whose titles share words with the query.
    """
    query = (query or "").strip()
    if not query:
        return []
    import kb.search

    search = getattr(kb.search, "search", None)
    if search is not None:
        return _from_search(search(query, viewer, kinds=None, per_page=limit), limit)
    return _solved_threads_like(query, viewer, limit)


def _from_search(results, limit: int) -> list[dict]:
    hits = getattr(results, "hits", None)
    if hits is None:
        hits = getattr(results, "items", results)
    answers = []
    for hit in list(hits)[:limit]:
        get = hit.get if isinstance(hit, dict) else lambda key, default=None, _h=hit: getattr(_h, key, default)
        kind = get("kind", "")
        answers.append(
            {
                "title": get("title", ""),
                "url": get("url", ""),
                "kind": kind,
                "kind_label": "Article" if kind == "article" else "Solved thread" if get("solved", False) else "Thread",
                "solved": bool(get("solved", False)),
                "summary": (get("summary", "") or "")[:200],
            }
        )
    return answers


def _solved_threads_like(query: str, viewer, limit: int) -> list[dict]:
    from sqlalchemy import func, or_

    from kb.extensions import db
    from kb.forums.models import Thread
    from kb.forums.search_docs import thread_url
    from kb.forums.threads import by_activity, visible_threads

    words = _words(query)
    if not words:
        return []
    statement = visible_threads(viewer).where(
        Thread.accepted_post_id.is_not(None), or_(*(func.lower(Thread.title).contains(word) for word in words))
    )
    return [
        {"title": t.title, "url": thread_url(t), "kind": "thread", "kind_label": "Solved thread", "solved": True, "summary": ""}
        for t in db.session.scalars(by_activity(statement, pinned_first=False).limit(limit))
    ]
