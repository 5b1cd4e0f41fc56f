"""The receiving MTA's verdict on the sender (``Authentication-Results``, RFC 8601).

A reply address proves which person the message claims to come from; DMARC and SPF tell whether
the sender's domain vouches for it. A failure for the sender's own domain refuses the message;
with ``MAILIN_REQUIRE_AUTHENTICATION`` a pass must be there. Only headers added by the trusted
server (``MAILIN_AUTHSERV_ID``) count when that is set: anyone can write the header themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

_METHODS = ("dmarc", "spf")
_DOMAIN_PROPERTY = {"dmarc": "header.from", "spf": "smtp.mailfrom"}


@dataclass(frozen=True)
class Result:
    method: str
    result: str
    domain: str | None  # the domain the result is about, when the header says


def _without_comments(text: str) -> str:
    """Drop (comments), nested ones too, in one pass."""
    kept, depth = [], 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth:
            kept.append(char)
    return "".join(kept)


def parse(value: str) -> tuple[str, list[Result]]:
    """The authserv-id and the DMARC and SPF results of one header value."""
    server, *resinfos = _without_comments(value).split(";")
    results = []
    for resinfo in resinfos:
        words = resinfo.split()
        if not words or "=" not in words[0]:
            continue
        method, _, result = words[0].partition("=")
        method = method.split("/", 1)[0].lower()
        if method not in _METHODS:
            continue
        domain = None
        for word in words[1:]:
            name, _, prop = word.partition("=")
            if name.lower() == _DOMAIN_PROPERTY[method] and prop:
                domain = prop.strip('"').rpartition("@")[2].lower().rstrip(".")
        results.append(Result(method, result.strip('"').lower(), domain))
    words = server.split()
    return (words[0].lower() if words else ""), results


def refusal(values: list[str], sender_domain: str, *, authserv_id: str = "", require: bool = False) -> str | None:
    """Why the message must be refused, or None when the results allow it."""
    sender_domain = sender_domain.lower().rstrip(".")
    trusted = authserv_id.strip().lower()
    results = []
    for value in values:
        server, found = parse(value)
        if not trusted or server == trusted:
            results.extend(found)
    for item in results:
        if item.result == "fail" and item.domain in (None, sender_domain):
            return f"The sender's domain {sender_domain} failed {item.method.upper()} at the receiving server."
    if require and not any(
        item.result == "pass" and (item.domain == sender_domain or (item.method == "dmarc" and item.domain is None))
        for item in results
    ):
        return (f"No passing DMARC or SPF result for the sender's domain {sender_domain}; "
                "this site accepts only authenticated replies.")
    return None
