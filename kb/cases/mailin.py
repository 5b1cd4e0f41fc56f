"""Email in: one reply to a case notification becomes a comment, or is refused with a reason.

The MTA pipes the raw message to ``kb mail-in``. Nothing is added unless the reply address
carries a genuine case token, the sender may see that case, and some new text is left once the
quoted reply and signature are gone.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

import nh3
from flask import current_app

from kb.accounts.users import user_by_email
from kb.cases import actions, notify
from kb.cases.models import Case, CaseEvent
from kb.cases.permissions import can_see_case
from kb.cases.reply_marker import cut_at_marker

# sysexits.h codes, so an MTA bounces with the right meaning.
EX_DATAERR, EX_NOUSER, EX_NOPERM = 65, 67, 77


class MailRejected(Exception):
    """Why a message was not added; ``code`` is the exit status for the MTA."""

    def __init__(self, reason: str, code: int = EX_DATAERR):
        super().__init__(reason)
        self.reason, self.code = reason, code


@dataclass
class MailResult:
    case: Case
    events: list[CaseEvent]
    sender: str


_ADDRESS_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")


def _token_candidates(message: EmailMessage) -> list[str]:
    """Case tokens in the addresses the message was sent to, in header order."""
    domain = current_app.config["MAIL_REPLY_DOMAIN"].lower()
    found = []
    values = []
    for header in _ADDRESS_HEADERS:
        values.extend(str(v) for v in (message.get_all(header) or []))
    for _, address in getaddresses(values):
        local, _, host = address.strip().lower().rpartition("@")
        if host == domain and local.startswith("case+"):
            found.append(local[len("case+"):])
    return found


def find_case(message: EmailMessage) -> Case:
    candidates = _token_candidates(message)
    if not candidates:
        domain = current_app.config["MAIL_REPLY_DOMAIN"]
        raise MailRejected(f"No case reply address (case+<token>@{domain}) among the recipients.", EX_NOUSER)
    for token in candidates:
        number = notify.number_from_token(token)
        if number is not None:
            case = actions.case_by_number(number)
            if case is not None:
                return case
    raise MailRejected("The case reply address is not valid (unknown or forged token).", EX_NOUSER)


def body_text(message: EmailMessage) -> str:
    """The message's own text: the plain part if there is one, else the HTML part turned into text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        content = html_to_text(content)
    return content


_HTML_QUOTES = [
    re.compile(r"<blockquote\b.*", re.IGNORECASE | re.DOTALL),  # everything from the first quote on is history
    re.compile(r"<div[^>]*class=\"?[^\">]*(gmail_quote|moz-cite-prefix|OutlookMessageHeader)\b.*", re.IGNORECASE | re.DOTALL),
    re.compile(r"<div[^>]*id=\"?(divRplyFwdMsg|appendonsend)\b.*", re.IGNORECASE | re.DOTALL),
]


def html_to_text(html: str) -> str:
    """Readable lines from an HTML-only message, with the quoted history dropped."""
    for pattern in _HTML_QUOTES:
        html = pattern.sub("", html)
    html = re.sub(r"(?is)<(head|style|script)\b.*?</\1\s*>", "", html)
    html = re.sub(r"(?i)<br\s*/?>", "\n", html)
    html = re.sub(r"(?i)</?(p|div|li|h[1-6]|tr|pre|ul|ol|table)\b[^>]*>", "\n", html)
    text = html_lib.unescape(nh3.clean(html, tags=set(), clean_content_tags={"script", "style"}))
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


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
    limit = int(current_app.config["CASE_MAILIN_MAX_BYTES"])
    if len(raw) > limit:
        raise MailRejected(f"The message is larger than the size limit; the limit is {limit} bytes.", EX_DATAERR)
    if not raw.strip():
        raise MailRejected("No message on standard input.", EX_DATAERR)
    message = message_from_bytes(raw, policy=policy.default)
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        raise MailRejected(f"Automatic messages (Auto-Submitted: {auto}) are not added to cases.", EX_DATAERR)
    case = find_case(message)
    _, sender = parseaddr(str(message.get("From", "")))
    user = user_by_email(sender) if sender else None
    if user is None or user.disabled or not can_see_case(user, case):
        raise MailRejected(f"The sender {sender or '(none)'} is not allowed to comment on case {case.number}.", EX_NOPERM)
    # Cleaned as a comment is stored, so a body of NUL characters is refused here, not by add_comment.
    text = actions.clean(strip_reply(cut_at_marker(body_text(message)))).strip()
    if not text:
        raise MailRejected("The message has no new text once the quoted reply and signature are removed.", EX_DATAERR)
    max_length = int(current_app.config["CASE_COMMENT_MAX_LENGTH"])
    if len(text) > max_length:
        raise MailRejected(f"The reply is {len(text)} characters; comments can be at most {max_length}.", EX_DATAERR)
    events = actions.add_comment(case, user, text, via="email")
    return MailResult(case, events, user.email)

