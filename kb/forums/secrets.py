"""Find credentials in text before it goes public: pure functions, no Flask, no database.

Every rule runs through the ``regex`` module with a time limit, because staff and operators can add
patterns: one with nested repetition such as ``(a+)+b`` would otherwise take seconds on a short post.
The built-in rules are written to stay linear (bounded look-aheads and scheme lengths).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import regex

log = logging.getLogger(__name__)

# Seconds the scanner may spend on one text when no limit is passed (the app passes its setting).
DEFAULT_TIMEOUT = 0.1

# Values people write instead of a real password; never worth a warning.
_PLACEHOLDER = re.compile(
    r"""^(?:\*+|x+|\.+|-+|\#+|\?+|<[^>]*>|\[[^\]]*\]|\{[^}]*\}|\$\{?[\w.]+\}?|%\w|%\(\w+\)s|
        redacted|removed|hidden|secret|changeme|password|none|null|nil|empty|true|false|
        required|optional|string|yes|no|n/?a|\*\*\*+\w*)$""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class SecretRule:
    name: str
    label: str
    regex: regex.Pattern
    group: int | str = 0  # which part of the match is the secret (for masking and placeholder checks)
    check_placeholder: bool = False


def _rule(name: str, label: str, pattern: str, flags: int = 0, group: int | str = 0, placeholder: bool = False):
    return SecretRule(name, label, regex.compile(pattern, flags | regex.VERSION0), group, placeholder)


BUILTIN_RULES: tuple[SecretRule, ...] = (
    _rule(
        "private-key",
        "Private key (PEM)",
        r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----",
    ),
    _rule("aws-access-key", "AWS access key ID", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),
    _rule(
        "aws-secret-key",
        "AWS secret access key",
        r"(?i)aws_?secret_?(?:access_?)?key\s*[=:]\s*[\"']?(?P<value>[A-Za-z0-9/+=]{40})\b",
        group="value",
    ),
    _rule("api-token", "Support Center API token", r"\bkbt_[A-Za-z0-9_\-]{20,}"),
    _rule(
        "bearer-token",
        "Bearer token",
        r"\bBearer\s+(?P<value>[A-Za-z0-9\-._~+/]{16,}=*)",
        group="value",
        placeholder=True,
    ),
    _rule("github-token", "GitHub token", r"\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{30,}\b"),
    _rule("slack-token", "Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    _rule(
        "licence-key",
        "Licence key",
        # HarborSync keys: five groups of five letters and digits, e.g. HS7Q2-4KD9X-...; a keyword
        # followed by a long value catches other vendors' keys.
        # The look-aheads stop at the key's own 29 characters, so a long run of "1-1-1-..." stays linear.
        r"\b(?P<value>(?=[A-Z0-9-]{0,28}\d)(?=[A-Z0-9-]{0,28}[A-Z])[A-Z0-9]{5}(?:-[A-Z0-9]{5}){4})\b"
        r"|(?i:licen[cs]e[ _-]?(?:key|code)\s*[=:]\s*[\"']?)(?P<keyed>[A-Za-z0-9+/=_-]{12,})",
        group="value",
    ),
    _rule(
        "password",
        "Password",
        r"(?i)\b(?:password|passwd|passphrase|pwd)\b\s*[=:]\s*(?P<q>[\"']?)(?P<value>[^\s\"'`,;&]{3,})",
        group="value",
        placeholder=True,
    ),
    _rule(
        "url-credentials",
        "Password inside a URL",
        # A scheme is short; an unbounded one made "a.a.a.a..." quadratic.
        r"\b[a-z][a-z0-9+.-]{0,31}://[^\s/:@]+:(?P<value>[^\s/@]{3,})@[\w.-]+",
        group="value",
        placeholder=True,
    ),
    _rule(
        "generic-secret",
        "API key or client secret",
        r"(?i)\b(?:api[_-]?key|api[_-]?secret|client[_-]?secret|secret[_-]?key|access[_-]?token|auth[_-]?token)"
        r"\b\s*[=:]\s*[\"']?(?P<value>[A-Za-z0-9_\-./+=]{16,})",
        group="value",
        placeholder=True,
    ),
)


@dataclass(frozen=True)
class Finding:
    """One suspected secret: what kind, where, and a masked preview that is safe to show."""

    name: str
    label: str
    line: int
    preview: str
    start: int
    end: int


def mask(value: str) -> str:
    """Enough of a value to recognise it, never enough to use it."""
    if len(value) <= 8:
        return value[:1] + "•" * (len(value) - 1)
    return f"{value[:4]}{'•' * 6}{value[-2:]} ({len(value)} characters)"


class PatternError(ValueError):
    """A pattern that cannot be used: it does not compile, matches empty text or runs too long."""


def compile_pattern(pattern: str) -> regex.Pattern:
    """Compile with Python's ``re`` syntax; PatternError (never OverflowError or a 500) when that fails."""
    try:
        return regex.compile(pattern, regex.VERSION0)
    except (regex.error, OverflowError, ValueError, RecursionError) as exc:
        raise PatternError(f"That is not a valid regular expression: {exc}.") from None


def _probes(pattern: str, length: int) -> list[str]:
    """Texts that make backtracking patterns blow up: long runs of the pattern's own characters and common ones."""
    chars = {c for c in pattern if c.isalnum() or c in " -_.:/=@"} | set("aA1 -_.")
    texts = []
    for char in sorted(chars):
        run = char * length
        texts += [run, run + "!", (char + " ") * (length // 2), (char + "-") * (length // 2)]
    return texts


def check_pattern(pattern: str, timeout: float = DEFAULT_TIMEOUT, probe_length: int = 5_000) -> regex.Pattern:
    """The compiled pattern, once it compiles, leaves empty text alone and stays fast on adversarial texts.

    All the probes together get ``timeout`` seconds (the time one rule may take on one post), so saving stays quick.
    """
    compiled = compile_pattern(pattern)
    if compiled.search(""):
        raise PatternError("That pattern matches empty text, so it would flag every post.")
    deadline = time.monotonic() + timeout
    for text in _probes(pattern, probe_length):
        try:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            for _ in compiled.finditer(text, timeout=remaining):
                pass
        except TimeoutError:
            sample = text[:12] + "…"
            raise PatternError(
                f"That pattern takes too long on some texts (for example “{sample}” repeated to "
                f"{len(text):,} characters), so it would slow every post. Avoid repetition inside repetition, "
                "such as (a+)+ or (a|aa)+."
            ) from None
    return compiled


def compile_rules(
    extra: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    disabled: Iterable[str] = (),
) -> list[SecretRule]:
    """The built-in rules minus the disabled ones, plus extra {name: regex} rules (bad regexes raise PatternError)."""
    off = set(disabled)
    rules = [rule for rule in BUILTIN_RULES if rule.name not in off]
    items = extra.items() if isinstance(extra, Mapping) else extra
    for name, pattern in items:
        if name in off:
            continue
        rules.append(SecretRule(name, name, compile_pattern(pattern)))
    return rules


def _secret_part(rule: SecretRule, match: regex.Match) -> tuple[str, int, int]:
    if isinstance(rule.group, str) and rule.group in match.re.groupindex:
        for group in (rule.group, "keyed"):
            if group in match.re.groupindex and match.group(group) is not None:
                return match.group(group), match.start(group), match.end(group)
    return match.group(0), match.start(), match.end()


def _looks_like_password(value: str) -> bool:
    """Prose ("password: field is required") and paths ("pwd: /var/log") are not passwords."""
    if re.fullmatch(r"/[\w./-]*", value):
        return False
    if re.search(r"[^A-Za-z]", value):
        return True
    return len(value) >= 10 and value.lower() != value and value.upper() != value


def _matches(rule: SecretRule, text: str, deadline: float) -> list[regex.Match]:
    """The rule's matches, or none (logged) when the scan of this text runs out of time."""
    try:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return list(rule.regex.finditer(text, timeout=remaining))
    except TimeoutError:
        log.warning("Secret rule %r skipped: out of time on a text of %d characters", rule.name, len(text))
        return []


def scan(text: str, rules: Iterable[SecretRule] | None = None, timeout: float = DEFAULT_TIMEOUT) -> list[Finding]:
    """Every suspected secret in ``text``, in order of appearance, one finding per place.

    All rules together get ``timeout`` seconds on the text, so no pattern can hold a request; the
    built-in rules come first (they are linear and take milliseconds), staff patterns after them.
    """
    if not text:
        return []
    findings: list[Finding] = []
    taken: list[tuple[int, int]] = []
    deadline = time.monotonic() + timeout
    for rule in BUILTIN_RULES if rules is None else rules:
        for match in _matches(rule, text, deadline):
            value, start, end = _secret_part(rule, match)
            if rule.check_placeholder and _PLACEHOLDER.match(value.strip("\"'")):
                continue
            if rule.name == "password" and not _looks_like_password(value):
                continue
            if any(start < t_end and end > t_start for t_start, t_end in taken):
                continue
            taken.append((start, end))
            line = text.count("\n", 0, start) + 1
            findings.append(Finding(rule.name, rule.label, line, mask(value), start, end))
    return sorted(findings, key=lambda f: f.start)
