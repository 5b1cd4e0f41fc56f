"""Email in: one reply to a case notification becomes a comment, or is refused with a reason.

The MTA pipes the raw message to ``kb mail-in``. Nothing is added unless the reply address
carries a genuine, unexpired token issued to the sender, the sender may still see that case, the
receiving server's DMARC/SPF verdict does not contradict the sender, the message was not added
before, and some new text is left once the quoted reply and signature are gone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from email.utils import getaddresses

from flask import current_app
from sqlalchemy import select

from kb.accounts.models import User
from kb.cases import actions, attachments, mailauth, notify
from kb.cases.mime import (
    EX_DATAERR,
    EX_NOPERM,
    EX_NOUSER,
    MailRejected,
    body_text,
    header_values,
    parse,
)
from kb.cases.mime import attachments as attached_files
from kb.cases.models import Case, CaseEvent, CaseMailMessage
from kb.cases.permissions import can_see_case
from kb.cases.reply_marker import cut_at_marker
from kb.extensions import db
from kb.types import utcnow
from kb.uploads.service import UploadError

__all__ = ["EX_DATAERR", "EX_NOPERM", "EX_NOUSER", "MailRejected", "MailResult", "body_text", "process", "strip_reply"]


@dataclass
class MailResult:
    case: Case
    events: list[CaseEvent]
    sender: str
    message_id: str = ""
    repeat: bool = False  # this Message-ID was added to the case before: nothing was added now
    notes: list[str] = field(default_factory=list)
    files: list = field(default_factory=list)  # StoredFile rows added with the comment


_ADDRESS_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")
# A linear scan for reply addresses; parsing every address of a huge header would not be.
_REPLY_ADDRESS = re.compile(r"(?i)\bcase\+([0-9a-z-]{1,100})@([0-9a-z.-]{1,253})")


def _tokens(message: Message) -> list[notify.ReplyToken]:
    """Genuine reply tokens in the addresses the message was sent to, in header order."""
    domain = current_app.config["MAIL_REPLY_DOMAIN"].lower()
    seen: dict[str, None] = {}
    for header in _ADDRESS_HEADERS:
        for value in header_values(message, header):
            for match in _REPLY_ADDRESS.finditer(value):
                if match.group(2).lower() == domain:
                    seen.setdefault(match.group(1).lower())
    return [claims for claims in map(notify.read_token, seen) if claims is not None]


def _sender(message: Message) -> str:
    addresses = [address for _, address in getaddresses(header_values(message, "From")) if address]
    if len(addresses) != 1 or "@" not in addresses[0]:
        raise MailRejected("The message must come from exactly one sender address (From:).", EX_NOPERM)
    return addresses[0].strip()


def _shown(text: str) -> str:
    """Text for a refusal message: undecodable bytes and control characters escaped, length cut."""
    return "".join(c if c.isascii() and c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text[:200])


def find_case(message: Message, sender: str) -> tuple[Case, User]:
    """The case and the person its reply address was issued to; MailRejected when there is none."""
    tokens = _tokens(message)
    if not tokens:
        domain = current_app.config["MAIL_REPLY_DOMAIN"]
        if not _REPLY_ADDRESS.search(" ".join(v for h in _ADDRESS_HEADERS for v in header_values(message, h))):
            raise MailRejected(f"No case reply address (case+<token>@{domain}) among the recipients.", EX_NOUSER)
        raise MailRejected("The case reply address is not valid (unknown or forged token).", EX_NOUSER)
    users = {claims.user_id: db.session.get(User, claims.user_id) for claims in tokens}
    # With several genuine addresses (a reply copied to a colleague's), use the sender's own.
    own = [c for c in tokens if users[c.user_id] is not None and users[c.user_id].email.lower() == sender.lower()]
    claims = (own or tokens)[0]
    case, user = actions.case_by_number(claims.number), users[claims.user_id]
    if case is None or user is None:
        raise MailRejected("The case reply address is not valid (unknown or forged token).", EX_NOUSER)
    max_age = int(current_app.config["MAILIN_TOKEN_MAX_AGE_DAYS"])
    if utcnow() - claims.issued_at > timedelta(days=max_age):
        raise MailRejected(
            f"The reply address has expired: it was sent on {claims.issued_at:%Y-%m-%d} and reply addresses work "
            f"for {max_age} days. Comment on the case page instead: {notify.case_url(case)}", EX_NOUSER)
    if user.email.lower() != sender.lower():
        raise MailRejected(f"The reply address of case {case.number} was sent to someone else; replies are accepted "
                           f"only from the address it was sent to, not from {_shown(sender)}.", EX_NOPERM)
    if user.disabled or not can_see_case(user, case):
        raise MailRejected(f"The sender {_shown(sender)} is not allowed to comment on case {case.number}.", EX_NOPERM)
    return case, user


def _message_id(message: Message) -> str:
    """The Message-ID as remembered: the part inside <>, hashed when longer than the column."""
    values = header_values(message, "Message-ID")
    text = values[0].strip() if values else ""
    inner = text[text.find("<") + 1: text.rfind(">")] if "<" in text and ">" in text else text
    inner = "".join(inner.split())
    if len(inner) <= 255 and inner.isascii() and inner.isprintable():
        return inner
    return "sha256:" + hashlib.sha256(inner.encode("utf-8", "surrogatepass")).hexdigest()


def already_added(case: Case, message_id: str) -> bool:
    return db.session.scalar(select(CaseMailMessage.id).where(
        CaseMailMessage.case_id == case.id, CaseMailMessage.message_id == message_id)) is not None


_REPLY_HEADER = re.compile(
    r"^(On .{1,300}(wrote|schrieb|a écrit|escribió)\s*:?"
    r"|-{2,}\s*Original Message\s*-{2,}"
    r"|_{10,}"
    r"|Le .{1,300}a écrit\s*:)$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^(--|Sent from my \S.*|Get Outlook for \S.*)$", re.IGNORECASE)
_OUTLOOK_HEADER = re.compile(r"^(Sent|Date|To|Subject):\s", re.IGNORECASE)


def strip_reply(text: str) -> str:
    """Keep only what the sender wrote: cut at the quoted history or the signature."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if _SIGNATURE.match(line.rstrip()) or _REPLY_HEADER.match(stripped):
            break
        # Outlook: "From: Support <...>" then "Sent: ..." starts the quoted original.
        if stripped.lower().startswith("from:") and _OUTLOOK_HEADER.match(following):
            break
        # "On Mon, 5 Jan 2026 at 10:00, Support <...>" often wraps before "wrote:".
        if stripped.lower().startswith("on ") and re.search(r"wrote:$", following, re.IGNORECASE):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def process(raw: bytes) -> MailResult:
    """Turn one raw message into a comment on its case; MailRejected says why not. Caller commits."""
    limit = int(current_app.config["MAILIN_MAX_BYTES"])
    if len(raw) > limit:
        raise MailRejected(f"The message is larger than the size limit; the limit is {limit} bytes.", EX_DATAERR)
    if not raw.strip():
        raise MailRejected("No message on standard input.", EX_DATAERR)
    message = parse(raw)
    auto = " ".join(header_values(message, "Auto-Submitted")).strip().lower() or "no"
    if auto != "no":
        raise MailRejected(f"Automatic messages (Auto-Submitted: {auto[:40]}) are not added to cases.", EX_DATAERR)
    sender = _sender(message)
    case, user = find_case(message, sender)
    config = current_app.config
    refused = mailauth.refusal(header_values(message, "Authentication-Results"), sender.rpartition("@")[2],
                               authserv_id=str(config["MAILIN_AUTHSERV_ID"] or ""),
                               require=bool(config["MAILIN_REQUIRE_AUTHENTICATION"]))
    if refused:
        raise MailRejected(refused, EX_NOPERM)
    message_id = _message_id(message)
    if message_id and already_added(case, message_id):
        return MailResult(case, [], user.email, message_id, repeat=True)
    # Cleaned as a comment is stored, so a body of NUL characters is refused here, not by add_comment.
    text = actions.clean(strip_reply(cut_at_marker(body_text(message)))).strip()
    files = [attachments.from_bytes(name, data, kind) for name, data, kind in attached_files(message)]
    try:
        attachments.check(case, files)
    except UploadError as exc:
        raise MailRejected(f"The reply was not added: {exc.message}", EX_DATAERR) from None
    if not text and files:
        text = "Files sent by email: " + ", ".join(f.filename for f in files) + "."
    if not text:
        raise MailRejected("The message has no new text once the quoted reply and signature are removed.", EX_DATAERR)
    max_length = int(config["CASE_COMMENT_MAX_LENGTH"])
    if len(text) > max_length:
        raise MailRejected(f"The reply is {len(text)} characters; comments can be at most {max_length}.", EX_DATAERR)
    # Email cannot prove who wrote it as a signed-in session does: see MAILIN_STAFF_FIRST_RESPONSE in the README.
    counts = not user.is_staff or bool(config["MAILIN_STAFF_FIRST_RESPONSE"])
    events = actions.add_comment(case, user, text, via="email", counts_as_response=counts)
    db.session.flush()
    try:
        stored = attachments.take(files, uploader=user, case=case, event=events[0])
    except UploadError as exc:
        raise MailRejected(f"The reply was not added: {exc.message}", EX_DATAERR) from None
    notes = [] if counts else ["a staff reply by email does not count as the first response"]
    if message_id:
        db.session.add(CaseMailMessage(case_id=case.id, message_id=message_id, event=events[0]))
    return MailResult(case, events, user.email, message_id, notes=notes, files=stored)
