"""Turn whatever a person typed into a small, always-valid query structure (no Whoosh here)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MUST, SHOULD, NOT = "must", "should", "not"
WORD, PHRASE, PREFIX = "word", "phrase", "prefix"

_TOKEN = re.compile(r'"[^"]*"?|[^\s"]+')
_WORDCHARS = re.compile(r"\w+(?:[.'’]\w+)*", re.UNICODE)


@dataclass
class Clause:
    """One word, quoted phrase or prefix, and whether it must, may or must not match."""

    kind: str
    text: str
    occur: str = MUST


@dataclass
class ParsedQuery:
    clauses: list[Clause] = field(default_factory=list)
    # Groups of clauses joined by OR, as indexes into clauses.
    or_groups: list[list[int]] = field(default_factory=list)

    @property
    def positive(self) -> list[Clause]:
        return [c for c in self.clauses if c.occur != NOT]

    def is_empty(self) -> bool:
        return not self.positive


def clean(text: str | None, max_length: int) -> str:
    """Drop control characters, normalise Unicode and spaces, and cut to max_length characters."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text)[: max_length * 2])
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(text.split())[:max_length].strip()


def normalise(text: str, max_length: int = 200) -> str:
    """The form a query is counted under in analytics: cleaned, lower case."""
    return clean(text, max_length).lower()


def parse(text: str, *, max_length: int = 500, max_terms: int = 24, prefix_min: int = 2) -> ParsedQuery:
    """Read quoted phrases, AND/OR/NOT (upper case), a leading minus and word*; everything else is text.

    Nothing here can fail: unknown syntax such as ``field:value`` or a lone operator is read as words.
    """
    text = clean(text, max_length)
    parsed = ParsedQuery()
    pending_not = False
    pending_or = False
    for raw in _TOKEN.findall(text):
        if len(parsed.clauses) >= max_terms:
            break
        if raw in ("AND", "&&"):
            continue
        if raw in ("OR", "||"):
            pending_or = bool(parsed.clauses) and parsed.clauses[-1].occur != NOT
            continue
        if raw == "NOT":
            pending_not = True
            continue
        negate = pending_not
        if raw.startswith("-") and len(raw) > 1:
            negate, raw = True, raw[1:]
        if raw.startswith('"'):
            body = raw.strip('"')
            words = _WORDCHARS.findall(body)
            if not words:
                continue
            # Quoted: a phrase, marked by the quotes it keeps.
            clause = Clause(PHRASE, '"' + " ".join(words) + '"') if len(words) > 1 else Clause(WORD, words[0])
        else:
            is_prefix = raw.endswith("*")
            words = _WORDCHARS.findall(raw)
            if not words:
                continue
            if len(words) > 1:
                # fail-back, title:journal: the parts, in any order.
                clause = Clause(PHRASE, " ".join(words))
            elif is_prefix and len(words[0]) >= prefix_min:
                clause = Clause(PREFIX, words[0])
            else:
                clause = Clause(WORD, words[0])
        if negate:
            clause.occur = NOT
            pending_or = False
        pending_not = False
        parsed.clauses.append(clause)
        index = len(parsed.clauses) - 1
        if pending_or and clause.occur != NOT:
            previous = index - 1
            group = next((g for g in parsed.or_groups if previous in g), None)
            if group is None:
                parsed.or_groups.append([previous, index])
            else:
                group.append(index)
            for i in (previous, index):
                parsed.clauses[i].occur = SHOULD
        pending_or = False
    if parsed.is_empty():
        # "NOT x" alone, or "-x": search for the words rather than for nothing.
        for clause in parsed.clauses:
            clause.occur = MUST
        parsed.or_groups = []
    return parsed
