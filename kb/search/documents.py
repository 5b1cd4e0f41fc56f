"""The plain search document every feature hands to the search boundary, and who may see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
    article_type: str = ""  # articles only: how-to, troubleshooting, best-practice, reference
    versions: list[str] = field(default_factory=list)
    summary: str = ""
    solved: bool = False  # threads only


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
