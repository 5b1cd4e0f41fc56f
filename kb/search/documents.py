"""The plain search document every feature hands to the search boundary, and who may see it."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

# The words of a document as both engines index them: letters and digits, with inner dots
# ("v8.0", "hs.5124"); Whoosh's RegexTokenizer finds the same.
WORD = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE)

PUBLIC = "public"
AUTHENTICATED = "authenticated"


def role_visibility(role: str) -> str:
    return f"role:{role}"


@dataclass
class SearchDoc:
    """One searchable thing. ``visibility`` is a token from :func:`viewer_visibility`'s vocabulary."""

    kind: str  # "article" or "thread"
    id: int
    title: str
    body: str
    url: str
    updated: datetime
    visibility: str = PUBLIC  # "public", "authenticated" or "role:<role>"
    headings: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    category: str = ""  # category slug
    category_name: str = ""
    summary: str = ""
    # Kind-specific values the feature fills in: facets can be filtered on and are counted on the
    # results page ({"article_type": ["how-to"], "versions": ["12.1", "12.2"]}); badges are marks a
    # result shows ("solved").
    facets: dict[str, list[str]] = field(default_factory=dict)
    badges: list[str] = field(default_factory=list)


def viewer_visibility(user) -> set[str]:
    """The visibility tokens a viewer may read: one per role the viewer's role includes.

    The ladder is the accounts Role enum's (``role.includes``); search imports no feature package,
    so it asks the viewer's role object rather than naming the roles.
    """
    tokens = {PUBLIC}
    if getattr(user, "is_authenticated", False):
        tokens.add(AUTHENTICATED)
        role = getattr(user, "role", None)
        if role is not None:
            tokens.update(role_visibility(r.value) for r in type(role) if role.includes(r))
    return tokens


def doc_key(kind: str, doc_id: int) -> str:
    return f"{kind}:{int(doc_id)}"


def timestamp(value: datetime | None) -> int:
    """Seconds since the epoch (naive times are UTC: SQLite forgets time zones)."""
    if value is None:
        return 0
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def doc_digest(doc: SearchDoc) -> str:
    """A fingerprint of everything indexed, so `search-check` can spot stale entries."""
    # Field by field rather than dataclasses.asdict, whose deep copy cost more than the hash (the
    # same JSON: the values are plain strings, lists and dicts).
    data = {f.name: getattr(doc, f.name) for f in fields(doc)}
    data["updated"] = timestamp(doc.updated)
    return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def plain_excerpt(text: str | None, chars: int) -> str:
    """Plain text cut at a word to at most `chars` characters (an ellipsis marks the cut)."""
    plain = " ".join((text or "").split())
    if len(plain) <= chars:
        return plain
    cut = plain[: max(1, chars - 2)].rsplit(" ", 1)[0]
    return cut + " …"
