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
            re.IGNORECASE,
        ),
        "Production is down",
        1,
    ),
    (
        re.compile(
            rf"\blive failover\b{_WORD_GAP}\b(?:fail(?:s|ed|ing|ure)?|hang(?:s|ing)?|hung|stuck|broken|not work\w*)\b"
            rf"|\b(?:fail(?:ed|s|ing)?|cannot|can't|unable to)\b{_WORD_GAP}\blive failover\b"
            rf"|\bfailover\b{_WORD_GAP}\bin production\b{_WORD_GAP}\bfail\w*\b",
            re.IGNORECASE,
        ),
        "A live failover failed",
        1,
    ),
    (
        re.compile(
            r"\b(?:purple|blue) screen\b|\bPSOD\b|\bBSOD\b|\bhost crash(?:ed|es)?\b"
            r"|\b(?:cannot|can't|unable to) (?:recover|fail ?over|migrate)\b"
            r"|\breplication (?:is |has )?(?:completely )?(?:down|stopped)\b(?![\w\s]{0,20}\btest)",
            re.IGNORECASE,
        ),
        "Recovery or replication is not possible",
        1,
    ),
    (re.compile(r"\boutage\b", re.IGNORECASE), "An outage", 1),
    (
        re.compile(
            r"\b(?:RPO|RTO)s?\b[\w\s/-]{0,30}?\b(?:missed|exceeded|breached|not (?:being )?met|violated|alarm|alert)\b"
            r"|\b(?:miss(?:ed|ing)?|exceed(?:ed|ing)?|breach(?:ed|ing)?|not meeting|can't meet|cannot meet)\b"
            r"[\w\s/-]{0,30}?\b(?:RPO|RTO)s?\b",
            re.IGNORECASE,
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
    return [w for w in re.findall(r"[\w.-]+", query.lower()) if len(w) >= 3][:12]


def find_answers(query: str, viewer, limit: int) -> list[dict]:
    """Articles and solved threads that may already answer a question, as plain dicts for the page and JSON.

    Asks the site search (which filters by what the viewer may read) for one full page of articles and
    threads in relevance order, and keeps articles and threads with an accepted answer: an unsolved
    thread is another open question, not an answer.
    """
    query = (query or "").strip()
    if not query or not _words(query):
        return []
    from flask import current_app

    from kb.search import search

    window = max(limit, current_app.config["SEARCH_PER_PAGE_MAX"])
    results = search(query, viewer, kinds=["article", "thread"], per_page=window).results
    hits = [hit for hit in results if hit.kind == "article" or "solved" in hit.badges][:limit]
    return [
        {
            "title": hit.title,
            "url": hit.url,
            "kind": hit.kind,
            "kind_label": "Article" if hit.kind == "article" else "Solved thread",
            "solved": "solved" in hit.badges,
            "summary": (hit.summary or "")[:200],
        }
        for hit in hits
    ]


def case_draft(title: str, body: str, title_limit: int, body_limit: int) -> dict:
    """A forum question as a private case draft, cut to fit the session cookie.

    It carries the severity the composer's outage check suggested (None when it found no outage),
    so the case form starts from what the asker was already shown.
    """
    description = body if len(body) <= body_limit else body[:body_limit] + "\n\n[…shortened; paste the rest into the case]"
    severity = suggested_severity(detect_outage(f"{title}\n{body}"))
    return {"title": title[:title_limit], "description": description, "severity": severity}
