"""Forum threads and cases: links both ways, the thread-page aside, the composer guidance.

Cases sit above forums, so this module may import kb.forums; forums only render the slots.
"""

from __future__ import annotations

import re

from flask import render_template
from flask_login import current_user
from sqlalchemy import select

from kb.cases import severity as severity_info
from kb.cases.actions import CaseError, clean, current_policy, parse_number, sla_status
from kb.cases.clocks import keep_page_until_due
from kb.cases.models import Case, CaseEvent, CaseThreadLink, EventKind
from kb.cases.permissions import can_link_this_thread, can_see_case
from kb.extensions import db
from kb.forums import deflection
from kb.forums import notifications as forum_notifications
from kb.forums.models import Post, Thread
from kb.forums.permissions import can_reply, can_see_thread
from kb.forums.threads import add_reply
from kb.types import utcnow

_THREAD_REF = re.compile(r"(?:^|/threads/)(\d{1,12})(?:[-/?#].*)?$")


def parse_thread_ref(text: str) -> int | None:
    """'123', '/threads/123-slug' or 'https://host/threads/123' to 123."""
    text = (text or "").strip()
    match = _THREAD_REF.search(text)
    return int(match.group(1)) if match else None


def readable_thread(user, thread_id) -> Thread | None:
    """The thread, if it exists and this user may read it."""
    number = parse_number(thread_id)
    if number is None:
        return None
    thread = db.session.get(Thread, number)
    return thread if thread is not None and can_see_thread(user, thread) else None


def link_for_thread(thread_id: int) -> CaseThreadLink | None:
    return db.session.scalar(select(CaseThreadLink).where(CaseThreadLink.thread_id == thread_id))


def link_thread(case: Case, thread: Thread, user) -> CaseThreadLink:
    """Link a thread to the case; a thread belongs to at most one case, linked by its author or staff."""
    if not can_link_this_thread(user, thread):
        raise CaseError("Only the thread's author or support staff can link that thread to a case.")
    existing = link_for_thread(thread.id)
    if existing is not None:
        if existing.case_id == case.id:
            raise CaseError("That thread is already linked to this case.")
        raise CaseError("That thread is already linked to another support case.")
    link = CaseThreadLink(case=case, thread_id=thread.id, created_by=user)
    db.session.add(link)
    db.session.add(CaseEvent(case=case, kind=EventKind.THREAD_LINK, author=user, new_value=str(thread.id)))
    return link


def linked_threads(case: Case, user) -> list[Thread]:
    """The linked threads this user may read (a link to a private thread stays hidden)."""
    threads = []
    for link in case.thread_links:
        thread = readable_thread(user, link.thread_id)
        if thread is not None:
            threads.append(thread)
    return threads


def first_post(thread: Thread) -> Post | None:
    return db.session.scalar(select(Post).where(Post.thread_id == thread.id, Post.is_first.is_(True)))


def draft_from_thread(thread: Thread) -> dict:
    """A case started from a thread: its title and question, and the severity the composer's outage check suggests."""
    post = first_post(thread)
    body = post.body if post is not None and post.visible else ""
    signals = deflection.detect_outage(f"{thread.title}\n{body}")
    return {"title": thread.title, "description": body, "severity": deflection.suggested_severity(signals)}


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")


def redact(text: str) -> str:
    """Remove what must not reach a public thread: addresses, IPs and anything that looks like a secret."""
    from kb.forums.secrets import scan

    for finding in sorted(scan(text), key=lambda f: f.start, reverse=True):
        text = text[: finding.start] + "[removed]" + text[finding.end :]
    text = _EMAIL.sub("[email removed]", text)
    return _IPV4.sub("[address removed]", text)


def default_summary(case: Case) -> str:
    """A starting point staff edit before posting: the last public staff answer, redacted."""
    staff_comments = [e for e in case.events if e.kind is EventKind.COMMENT and e.author is not None and e.author.is_staff]
    resolution = staff_comments[-1].body if staff_comments else "Describe the resolution here."
    return redact(
        "This question was followed up in a support case, which is now resolved. "
        f"Here is what fixed it:\n\n{resolution}"
    )


def post_summary(case: Case, user, body: str) -> list[tuple[Post, list]]:
    """Post the (edited) summary as a reply in every linked thread the staff member can reply to.

    Returns each new post with the thread watchers to email (send_summary_emails) before the caller commits.
    """
    posted = []
    for link in case.thread_links:
        thread = db.session.get(Thread, link.thread_id)
        if thread is not None and can_reply(user, thread):
            post = add_reply(thread, user, clean(body))
            db.session.flush()
            posted.append((post, forum_notifications.notify(post, "reply", user)))
    if not posted:
        raise CaseError("None of the linked threads can take a reply (deleted or locked).")
    case.summary_handled_at = utcnow()
    return posted


def send_summary_emails(posted: list[tuple[Post, list]]) -> None:
    """Queue the watchers' emails about the summary posts, in the caller's transaction."""
    for post, recipients in posted:
        if recipients:
            forum_notifications.queue_emails(post, "reply", recipients)


def summary_pending(case: Case) -> bool:
    return case.resolved_at is not None and case.summary_handled_at is None and bool(case.thread_links)


def render_thread_aside(thread=None, **_) -> str:
    """On a thread page: the linked case for those who may see it, nothing about it for anyone else."""
    if thread is None:
        return ""
    link = link_for_thread(thread.id)
    if link is None:
        if not _can_open_from(thread):
            return ""
        return render_template("cases/_thread_aside.html", case=None, thread=thread, can_open=True)
    case = link.case
    if not can_see_case(current_user, case):
        return ""  # even that a case exists is for those who may see it
    sla = sla_status(case)
    keep_page_until_due(sla)
    return render_template(
        "cases/_thread_aside.html",
        case=case,
        sla=sla,
        severity=severity_info.get(case.severity),
        thread=thread,
        can_open=False,
    )


def _can_open_from(thread) -> bool:
    from kb.cases.permissions import can_open_case

    return (can_open_case(current_user) and can_see_thread(current_user, thread)
            and can_link_this_thread(current_user, thread))


def render_composer_guidance(**_) -> str:
    """In the forum composer: when a case is the better route, and how to choose its severity."""
    policy = current_policy()
    return render_template(
        "cases/_composer_guidance.html",
        rows=severity_info.targets_table(policy),
        coverage=severity_info.out_of_hours(policy),
    )
