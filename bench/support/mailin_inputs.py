"""Hostile messages for `kb mail-in`: the shapes that once took seconds or crashed, and their neighbours.

Shared by bench/mailin.py (worst time per step) and tests/cases/test_mailin_bounds.py (each is
refused cleanly or added), so the benchmark measures exactly what the tests prove bounded.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hostile:
    name: str
    step: str  # the bounded step it attacks: structure, headers, html, text
    raw: bytes
    code: int  # the exit status `kb mail-in` must give: 0 (added) or 65 (refused as bad data)


def plain_message(sender: str, to: str, content_type: str, body: str, extra: str = "") -> bytes:
    head = f"From: {sender}\r\nTo: {to}\r\nSubject: Re: case\r\nMIME-Version: 1.0\r\n{extra}"
    return (head + f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n").encode()


def nested_multiparts(sender: str, to: str, depth: int) -> bytes:
    head = f"From: {sender}\r\nTo: {to}\r\nSubject: Re: case\r\nMIME-Version: 1.0\r\n"
    chunks = [head.encode()]
    for level in range(depth):
        chunks.append(f"Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n".encode())
    chunks.append(b"Content-Type: text/plain\r\n\r\nDeep inside.\r\n")
    return b"".join(chunks)


def nested_messages(sender: str, to: str, depth: int) -> bytes:
    inner = f"From: {sender}\r\nTo: {to}\r\nSubject: Re: case\r\nMIME-Version: 1.0\r\n"
    chunks = [inner.encode()] + [b"Content-Type: message/rfc822\r\n\r\n"] * depth
    chunks.append(b"Content-Type: text/plain\r\n\r\nDeep inside.\r\n")
    return b"".join(chunks)


def many_parts(sender: str, to: str, count: int) -> bytes:
    parts = "".join(f"--p\r\nContent-Type: text/plain\r\n\r\npart {n}\r\n" for n in range(count))
    return plain_message(sender, to, "multipart/mixed; boundary=\"p\"", parts + "--p--")


def parts_with_header(sender: str, to: str, header: str, count: int) -> bytes:
    parts = "".join(f"--p\r\n{header}\r\n\r\n{'Answer.' if n == 0 else f'part {n}'}\r\n" for n in range(count))
    return plain_message(sender, to, "multipart/mixed; boundary=\"p\"", parts + "--p--")


def hostile_messages(sender: str, reply_address: str) -> list[Hostile]:
    """Each hostile shape, addressed to ``reply_address`` from ``sender`` (so only the attack can refuse it)."""
    others = ", ".join(f"user{n}@example.org" for n in range(40_000))
    split_to = "".join(f"To: {', '.join(f'user{n}@example.org' for n in range(start, start + 500))}\r\n"
                       for start in range(0, 40_000, 500))
    html = "text/html; charset=utf-8"
    return [
        Hostile("3,000 nested multiparts", "structure", nested_multiparts(sender, reply_address, 3_000), 65),
        Hostile("3,000 nested message/rfc822", "structure", nested_messages(sender, reply_address, 3_000), 65),
        Hostile("5,000 sibling parts", "structure", many_parts(sender, reply_address, 5_000), 65),
        Hostile("To: of 40,000 addresses", "headers", plain_message(sender, f"{reply_address}, {others}", "text/plain", "Hi."), 65),
        Hostile("40,000 addresses in 80 To: headers", "headers",
                plain_message(sender, reply_address, "text/plain", "Still here.", extra=split_to), 0),
        Hostile("55 parts with 16 KB Content-Type parameters", "headers", parts_with_header(
            sender, reply_address, "Content-Type: text/plain; " + "; ".join(f"p{n}=v" for n in range(2_700))[:16_000], 55), 0),
        Hostile("870 KB of Authentication-Results", "headers", plain_message(sender, reply_address, "text/plain", "Answer.",
                extra=("Authentication-Results: mx; " + "(x)" * 3_000 + "dkim=pass; " * 400 + "\r\n") * 65), 0),
        Hostile("8,000 nested comments in a Content-Type", "headers",
                parts_with_header(sender, reply_address, "Content-Type: text/plain; a=b " + "(" * 8_000, 1), 0),
        Hostile("600 KB in the punycode charset (quadratic)", "text", plain_message(
            sender, reply_address, "text/plain; charset=punycode", "Answer." + "a" * 200_000 + "-" + "99" * 200_000), 65),
        Hostile("11 KB of <div class= (cubic for regexes)", "html",
                plain_message(sender, reply_address, html, "<p>Answer.</p>" + "<div class=" * 1_000), 0),
        Hostile("200 KB of nested <div>", "html", plain_message(sender, reply_address, html, "Answer." + "<div>" * 40_000), 0),
        Hostile("unclosed comments", "html", plain_message(sender, reply_address, html, "Answer.<!--" + "<!--" * 50_000), 0),
        Hostile("unclosed quoted attributes", "html",
                plain_message(sender, reply_address, html, "Answer.<a b=\"" + "<a b='" * 30_000), 0),
        Hostile("a <a without end", "html", plain_message(sender, reply_address, html, "Answer." + "<a" * 100_000), 0),
        Hostile("deep <ul> then stray end tags", "html",
                plain_message(sender, reply_address, html, "Answer." + "<ul>" * 20_000 + "</li></p></x>" * 10_000), 0),
        Hostile("nested tables", "html", plain_message(sender, reply_address, html, "Answer." + "<table><tr><td>" * 12_000), 0),
        Hostile("900 KB of reply-header lookalikes", "text",
                plain_message(sender, reply_address, "text/plain", "Answer.\r\n" + ("On " + "x" * 290 + "\r\n") * 3_000), 65),
    ]
