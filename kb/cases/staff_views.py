"""Staff-only case pages: re-grading, assigning, the resolution summary and the queue."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from kb.accounts.models import User
from kb.accounts.permissions import staff_required
from kb.cases import actions, activity, case_page, forms, links, notify, permissions
from kb.cases import severity as severity_info
from kb.cases.models import CaseStatus
from kb.cases.queue import GROUP_LABELS, SLA_FILTERS, queue_page
from kb.cases.urls import case_url
from kb.cases.views import _limit, bp
from kb.extensions import db
from kb.security import int_arg


@bp.post("/cases/<int:number>/severity")
@login_required
@_limit()
def change_severity(number: int):
    """Staff re-grade a case; the due time follows."""
    case = case_page.case_or_404(number)
    if not permissions.can_work_case(current_user, case):
        abort(403)
    form = forms.SeverityForm(prefix="severity")
    if form.validate_on_submit():
        try:
            event = actions.change_severity(case, current_user, form.severity.data, form.reason.data)
        except actions.CaseError as exc:
            form.reason.errors.append(str(exc))
            return case_page.again(case, 400, severity_form=form)
        activity.record(case, [event], current_user)
        if event is not None:
            notify.send_public_update(case, [event], current_user)
        db.session.commit()
        if event is not None:
            flash(f"Severity changed to {severity_info.label(case.severity)}.", "success")
        return redirect(case_url(case))
    return case_page.again(case, 400, severity_form=form)


@bp.post("/cases/<int:number>/assign")
@login_required
@_limit()
def assign(number: int):
    """Staff record who is working the case ("take" assigns it to yourself)."""
    case = case_page.case_or_404(number)
    if not permissions.can_work_case(current_user, case):
        abort(403)
    if request.form.get("take") == "1":
        if not forms.EmptyForm().validate_on_submit():
            abort(400)
        assignee = current_user._get_current_object()
    else:
        form = forms.AssignForm(prefix="assign")
        form.assignee.choices = case_page.assignee_choices()
        if not form.validate_on_submit():
            return case_page.again(case, 400, assign_form=form)
        assignee = db.session.get(User, int(form.assignee.data)) if form.assignee.data else None
    try:
        actions.assign(case, current_user, assignee)
    except actions.CaseError as exc:
        abort(400, str(exc))
    db.session.commit()
    flash(f"Assigned to {assignee.display_name}." if assignee else "Nobody is assigned now.", "success")
    if request.form.get("back") == "queue":
        return redirect(url_for("cases.staff_queue"))
    return redirect(case_url(case))


@bp.route("/cases/<int:number>/summary", methods=["GET", "POST"])
@staff_required
@_limit()
def summary(number: int):
    """Staff post an edited, redacted summary of the resolution to the linked threads (or skip it)."""
    case = case_page.case_or_404(number)
    if not case.thread_links:
        abort(404)
    form = forms.SummaryForm()
    if request.method == "POST" and request.form.get("skip") == "1":
        if not forms.EmptyForm().validate_on_submit():
            abort(400)
        from kb.types import utcnow

        case.summary_handled_at = utcnow()
        db.session.commit()
        flash("No summary will be posted.", "info")
        return redirect(case_url(case))
    if form.validate_on_submit():
        try:
            posted = links.post_summary(case, current_user, form.body.data)
        except actions.CaseError as exc:
            form.body.errors.append(str(exc))
        else:
            links.send_summary_emails(posted)
            db.session.commit()
            flash(f"Summary posted to {len(posted)} thread{'s' if len(posted) != 1 else ''}.", "success")
            return redirect(case_url(case))
    elif request.method == "GET":
        form.body.data = links.default_summary(case)
    threads = links.linked_threads(case, current_user)
    status = 400 if request.method == "POST" else 200
    return render_template("cases/summary.html", case=case, form=form, threads=threads,
                           button_form=forms.EmptyForm()), status


@bp.route("/staff/queue")
@staff_required
def staff_queue():
    """Open cases in the order they should be worked (the page states the order)."""
    filters = {key: request.args.get(key, "") for key in ("severity", "status", "assignee", "plan", "sla", "escalated")}
    page_number = int_arg("page")
    page = queue_page(filters, current_user, page_number, current_app.config["CASE_QUEUE_PER_PAGE"])
    return render_template("cases/staff_queue.html", page=page, filters=filters, sla_filters=SLA_FILTERS,
                           group_labels=GROUP_LABELS, statuses=[s for s in CaseStatus if s.is_open],
                           button_form=forms.EmptyForm())
