"""The admin page of the mail outbox: what waits, what failed and why, and a retry button."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import case, select, update

from kb.accounts.forms import EmptyForm
from kb.accounts.permissions import admin_required
from kb.accounts.views import bp
from kb.extensions import db
from kb.mail import (
    MailStatus,
    OutboxMessage,
    backlog_size,
    failed_count,
    oldest_waiting_age,
)
from kb.mail.delivery import retry
from kb.security import int_arg
from kb.types import utcnow

_SHOWN = {"failed": [MailStatus.FAILED], "waiting": [MailStatus.WAITING], "": [MailStatus.FAILED, MailStatus.WAITING]}


@bp.route("/admin/mail")
@admin_required
def admin_mail():
    """Failed messages first, then those waiting to be sent, with the relay's last answer."""
    show = request.args.get("show", "")
    if show not in _SHOWN:
        show = ""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(_SHOWN[show]))
        .order_by(case((OutboxMessage.status == MailStatus.FAILED, 0), else_=1), OutboxMessage.id.desc())
    )
    page = db.paginate(query, page=int_arg("page"), per_page=int(current_app.config["MAIL_ADMIN_PER_PAGE"]), error_out=False)
    return render_template(
        "accounts/admin_mail.html", page=page, show=show, form=EmptyForm(),
        waiting=backlog_size(), failed=failed_count(), oldest=oldest_waiting_age(), now=utcnow(),
    )


@bp.post("/admin/mail/<int:message_id>/retry")
@admin_required
def admin_mail_retry(message_id: int):
    """Send a failed (or backing-off) message on the worker's next round."""
    if not EmptyForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    if retry(message_id):
        db.session.commit()
        flash(f"The message “{message.subject}” will be sent on the worker's next round.", "success")
    else:
        flash("That message was already sent.", "info")
    return redirect(url_for("accounts.admin_mail", show=request.args.get("show", "")))


@bp.post("/admin/mail/retry-failed")
@admin_required
def admin_mail_retry_failed():
    """Put every failed message back in the queue, e.g. after fixing the relay settings."""
    if not EmptyForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    result = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.status == MailStatus.FAILED)
        .values(status=MailStatus.WAITING, attempts=0, next_attempt_at=utcnow())
    )
    db.session.commit()
    flash(f"{result.rowcount} failed message{'s' if result.rowcount != 1 else ''} will be sent again.", "success")
    return redirect(url_for("accounts.admin_mail"))
