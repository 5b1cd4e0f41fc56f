"""Reading an incoming email with bounded work: structure checked before parsing, HTML turned into text.

The standard library's parser recurses once per nested part and compares every line with every
open boundary, and its default policy's header objects parse address and parameter lists in more
than linear time. So the raw bytes are scanned once (depth, part count, header sizes) before the
parser sees them, headers stay plain strings, and HTML goes through a real HTML parser after being
cut to size.
"""

from __future__ import annotations

import codecs
import re
from email import message_from_bytes, policy
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from html.parser import HTMLParser

import nh3
from flask import current_app

# sysexits.h codes, so an MTA bounces with the right meaning.
EX_DATAERR, EX_NOUSER, EX_NOPERM = 65, 67, 77


class MailRejected(Exception):
    """Why a message was not added; ``code`` is the exit status for the MTA."""

    def __init__(self, reason: str, code: int = EX_DATAERR):
        super().__init__(reason)
        self.reason, self.code = reason, code


_HEADER_LINE = re.compile(rb"From |[\x21-\x39\x3b-\x7e]*:")  # what the parser takes for a header line


def _limit(name: str) -> int:
    return int(current_app.config[name])


def _kind_and_boundary(content_type: bytes, default: str) -> tuple[str, bytes]:
    """The type and multipart boundary exactly as the parser reads them (RFC 2231 included)."""
    holder = Message()
    holder["Content-Type"] = content_type.decode("ascii", "surrogateescape") or default
    kind = holder.get_content_type()
    boundary = holder.get_boundary() if kind.startswith("multipart/") else None
    return kind, (boundary or "").encode("ascii", "surrogateescape")


def check_structure(raw: bytes) -> None:
    """Refuse a message nested too deep, with too many parts or an oversized header, in one pass."""
    max_depth, max_parts = _limit("MAILIN_MAX_MIME_DEPTH"), _limit("MAILIN_MAX_MIME_PARTS")
    max_header = _limit("MAILIN_MAX_HEADER_BYTES")
    lines = raw.splitlines()
    # Open levels, innermost last: (boundary, is a digest); b"" boundary for an enclosed message/*.
    stack: list[tuple[bytes, bool]] = []
    delimiters: dict[bytes, tuple[int, bool]] = {}  # b"--boundary" and b"--boundary--" -> (level, closes)
    parts, index, in_headers = 1, 0, True

    def close_to(level: int) -> None:
        while len(stack) > level:
            boundary, _ = stack.pop()
            if boundary:
                delimiters.pop(b"--" + boundary, None)
                delimiters.pop(b"--" + boundary + b"--", None)

    while index < len(lines):
        if in_headers:
            index, content_type = _header_section(lines, index, max_header)
            in_digest = bool(stack) and stack[-1][1] and bool(stack[-1][0])
            kind, boundary = _kind_and_boundary(content_type, "message/rfc822" if in_digest else "")
            in_headers = False
            if boundary or kind.startswith("message/"):
                if len(stack) >= max_depth:
                    raise MailRejected(f"The message's parts are nested more than {max_depth} levels deep.")
                if boundary and b"--" + boundary in delimiters:
                    raise MailRejected("The message reuses a MIME boundary inside its own part.")
                stack.append((boundary, kind == "multipart/digest"))
                if boundary:
                    delimiters[b"--" + boundary] = (len(stack), False)
                    delimiters[b"--" + boundary + b"--"] = (len(stack), True)
                else:
                    in_headers = True  # the enclosed message starts with its own headers
            continue
        line = lines[index]
        index += 1
        if not line.startswith(b"--"):
            continue
        level, closes = delimiters.get(line.rstrip(b" \t"), (0, False))
        if not level:
            continue
        close_to(level - 1 if closes else level)
        if not closes:
            parts += 1
            if parts > max_parts:
                raise MailRejected(f"The message has more than {max_parts} MIME parts.")
            in_headers = True


def _header_section(lines: list[bytes], index: int, max_header: int) -> tuple[int, bytes]:
    """Skip one header section; return where its body starts and the Content-Type value."""
    content_type, field, size = b"", None, 0
    while index < len(lines):
        line = lines[index]
        if not line:
            return index + 1, content_type
        if line[:1] in (b" ", b"\t"):
            size += len(line)
            if field == b"content-type":
                content_type += line
        elif _HEADER_LINE.match(line):
            name, _, value = line.partition(b":")
            field, size = name.lower(), len(line)
            if field == b"content-type" and content_type:
                field = b"content-type (again)"  # the parser reads the first one
            if field == b"content-type":
                content_type = value
        else:
            return index, content_type  # not a header: the body starts here, as the parser sees it
        if size > max_header:
            raise MailRejected(f"A header of the message is longer than {max_header} bytes.")
        index += 1
    return index, content_type


def parse(raw: bytes) -> Message:
    """The message, once its structure is within bounds; a parser failure is a refusal, not a traceback.

    Headers stay plain strings (the compat32 policy): the default policy's header objects take
    seconds on a long Content-Type parameter list and recurse once per nested comment.
    """
    check_structure(raw)
    try:
        return message_from_bytes(raw, policy=policy.compat32)
    except Exception as exc:  # noqa: BLE001 - any failure of the parser means the data is unusable
        raise unreadable(exc) from None


def unreadable(exc: Exception) -> MailRejected:
    current_app.logger.warning("mail-in: unreadable message (%s: %s)", type(exc).__name__, exc)
    return MailRejected(f"The message could not be read as an email ({type(exc).__name__}).")


def header_values(message: Message, name: str) -> list[str]:
    """Raw values of a header, unparsed."""
    wanted = name.lower()
    return [str(value) for key, value in message.raw_items() if key.lower() == wanted]


def _body_part(message: Message) -> Message | None:
    """The first plain-text part that is no attachment, else the first HTML one; forwarded messages are history."""
    found: dict[str, Message] = {}
    pending = [message]
    while pending:
        part = pending.pop()
        if part.is_multipart():
            if part is message or part.get_content_maintype() != "message":
                pending.extend(reversed(part.get_payload()))
        elif part.get_content_disposition() != "attachment":
            found.setdefault(part.get_content_type(), part)
    return found.get("text/plain") or found.get("text/html")


def _filename(part: Message) -> str:
    """A part's file name as the sender's program wrote it (RFC 2231 and encoded words decoded)."""
    name = part.get_filename() or ""
    if "=?" in name:
        try:
            name = str(make_header(decode_header(name)))
        except (HeaderParseError, LookupError, UnicodeError, ValueError):
            pass
    return name


def attachments(message: Message) -> list[tuple[str, bytes, str]]:
    """The files sent with a message, in order: (name, bytes, declared type); the message's text is not one.

    A part is a file when it is marked as an attachment or carries a file name; an enclosed message
    (a forward) is history and is not searched.
    """
    found: list[tuple[str, bytes, str]] = []
    try:
        pending = [message]
        while pending:
            part = pending.pop()
            if part.is_multipart():
                if part is message or part.get_content_maintype() != "message":
                    pending.extend(reversed(part.get_payload()))
                continue
            name = _filename(part)
            if part.get_content_disposition() != "attachment" and not name:
                continue
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found.append((name or f"attachment-{len(found) + 1}", payload, part.get_content_type()))
    except Exception as exc:  # noqa: BLE001 - as in parse(): broken MIME is refused cleanly
        raise unreadable(exc) from None
    return found


# Text codecs whose decoding is not linear in the input (or not meant for mail).
_UNSAFE_CHARSETS = {"punycode", "idna"}


def _decode(payload: bytes, charset: str | None) -> str:
    try:
        if not charset or codecs.lookup(charset).name in _UNSAFE_CHARSETS:
            raise LookupError(charset)
        return payload.decode(charset, errors="replace")
    except (LookupError, UnicodeError, ValueError):
        return payload.decode("utf-8", errors="replace")


def body_text(message: Message) -> str:
    """The message's own text: the plain part if there is one, else the HTML part turned into text."""
    try:
        part = _body_part(message)
        if part is None:
            return ""
        payload = part.get_payload(decode=True)
        charset = part.get_content_charset()
    except Exception as exc:  # noqa: BLE001 - as in parse(): broken MIME is refused cleanly
        raise unreadable(exc) from None
    if not isinstance(payload, bytes):
        return ""
    content = _decode(payload, charset)
    return html_to_text(content) if part.get_content_subtype() == "html" else content


_BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre", "ul", "ol", "table", "blockquote"}
_QUOTE_CLASSES = {"gmail_quote", "moz-cite-prefix", "outlookmessageheader"}
_QUOTE_IDS = {"divrplyfwdmsg", "appendonsend"}
_TAG = re.compile(r"</?[A-Za-z]")  # a start or end tag: the HTML5 tree builder does work per tag


def _cut(html: str) -> str:
    """At most MAILIN_MAX_HTML_CHARS characters and MAILIN_MAX_HTML_TAGS tags (the reply is on top).

    The tree builder's cost grows with nesting times tags, so the tag count bounds it as the
    character count alone cannot (200 KB of nested <div> is 40,000 levels).
    """
    html = html[: _limit("MAILIN_MAX_HTML_CHARS")]
    max_tags = _limit("MAILIN_MAX_HTML_TAGS")
    for count, match in enumerate(_TAG.finditer(html)):
        if count == max_tags:
            return html[: match.start()]
    return html


class _TextWriter(HTMLParser):
    """Text of well-formed HTML, one line per block, stopping where the quoted history starts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.done = False

    def handle_starttag(self, tag, attrs):
        if self.done:
            return
        values = dict(attrs)
        classes = set((values.get("class") or "").lower().split())
        if tag == "blockquote" or (tag == "div" and (classes & _QUOTE_CLASSES
                                                    or (values.get("id") or "").lower() in _QUOTE_IDS)):
            self.done = True  # everything from the first quote on is history
        elif tag == "br" or tag in _BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag):
        if not self.done and tag in _BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data):
        if not self.done:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Readable lines from an HTML-only message, with the quoted history dropped.

    html5ever (inside nh3) parses whatever was sent into well-formed HTML keeping only the tags
    that shape lines; the standard parser then reads that clean result in one linear pass.
    """
    clean = nh3.clean(_cut(html), tags=_BLOCKS | {"br"}, attributes={"div": {"class", "id"}},
                      clean_content_tags={"script", "style", "title"}, link_rel=None, strip_comments=True)
    writer = _TextWriter()
    writer.feed(clean)
    writer.close()
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in "".join(writer.chunks).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
