"""Case pages: the case list, opening a case, its page and comments (staff-only pages: staff_views.py)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
)
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from kb.accounts.models import User
from kb.cases import actions, activity, attachments, case_page, clocks, composer, forms, links, notify, permissions, sla
from kb.cases import severity as severity_info
from kb.cases.models import Case, CaseEvent, CaseStatus
from kb.cases.urls import case_url
from kb.extensions import db, limiter
from kb.forums import deflection
from kb.security import int_arg
from kb.uploads.service import UploadError

bp = Blueprint("cases", __name__)


def _limit():
    return limiter.limit(lambda: current_app.config["CASE_RATE_LIMIT"], methods=["POST"])


@bp.route("/cases/")
@login_required
def index():
    """The organisation's cases (all cases for staff)."""
    if not current_user.is_staff and not permissions.can_open_case(current_user):
        return render_template("cases/no_organization.html"), 200
    show = request.args.get("show", "open")
    query = permissions.visible_cases(current_user)
    if show == "open":
        query = query.where(Case.status.in_([s for s in CaseStatus if s.is_open]))
    elif show == "closed":
        query = query.where(Case.status.in_([CaseStatus.RESOLVED, CaseStatus.CLOSED]))
    else:
        show = "all"
    page = db.paginate(query.order_by(Case.updated_at.desc(), Case.id.desc()), page=int_arg("page"),
                       per_page=current_app.config["CASES_PER_PAGE"], error_out=False, max_per_page=200)
    unread = activity.unread_case_ids(current_user, [case.id for case in page.items])
    return render_template("cases/index.html", page=page, show=show, sla_status=actions.sla_status, unread=unread)


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
@_limit()
def new():
    """Open a case, with the severity guidance and questionnaire inline; nothing typed is lost."""
    if not permissions.can_open_case(current_user):
        return render_template("cases/no_organization.html"), 403 if request.method == "POST" else 200
    form = forms.CaseForm()
    thread = None
    carried = None  # the severity the forum composer's outage check suggested
    if request.method == "GET":
        draft = session.pop("case_draft", None) if request.args.get("from") == "draft" else None
        if isinstance(draft, dict):
            form.title.data = str(draft.get("title") or "")[: current_app.config["CASE_TITLE_MAX_LENGTH"]]
            form.description.data = str(draft.get("description") or "")
            carried = _carry_severity(form, draft.get("severity"))
        if request.args.get("thread"):
            thread = links.readable_thread(current_user, request.args.get("thread"))
            if thread is None:
                abort(404)
            prefill = links.draft_from_thread(thread)
            form.title.data = prefill["title"]
            form.description.data = prefill["description"]
            form.thread.data = str(thread.id)
            carried = _carry_severity(form, prefill["severity"])
    elif form.thread.data:
        thread = links.readable_thread(current_user, form.thread.data)
    action = request.form.get("action") if request.method == "POST" else None
    if action == "suggest":
        number, reason = severity_info.suggest_severity(form.answers())
        if number and not form.severity.data:
            form.severity.data = str(number)
        return _new_page(form, thread, suggestion=(number, reason))
    if action == "check":
        return _new_page(form, thread, suggestions=_answers_for(form.title.data), checked=True)
    if form.validate_on_submit():
        files = attachments.from_uploads(form.files.data)
        try:
            attachments.check(None, files)
        except UploadError as exc:
            return _files_refused(form, thread, exc)
        case = actions.open_case(
            current_user,
            title=form.title.data,
            description=form.description.data,
            severity=form.severity.data,
            product_version=form.product_version.data,
            product_build=form.product_build.data,
            business_impact=form.business_impact.data,
            environment=form.environment.data,
        )
        link_problem = None
        if thread is not None:
            try:
                links.link_thread(case, thread, current_user)
            except actions.CaseError as exc:
                link_problem = str(exc)  # not the user's thread, or linked to another case meanwhile
        db.session.flush()
        try:
            attachments.take(files, uploader=current_user, case=case)
        except UploadError as exc:  # the file changed between the check and now; nothing is kept
            db.session.rollback()
            return _files_refused(form, thread, exc)
        notify.send_case_opened(case, actions.sla_sentence(case))
        db.session.commit()
        if link_problem:
            flash(f"{link_problem} This case is not linked to the thread.", "info")
        flash(f"Case #{case.number} is open. {_sla_sentence(case)}", "success")
        return redirect(case_url(case))
    suggestion = None
    if request.method == "POST" and any(form.answers().values()):
        suggestion = severity_info.suggest_severity(form.answers())
    return _new_page(form, thread, 400 if request.method == "POST" else 200, suggestion=suggestion, carried=carried)


def _carry_severity(form: forms.CaseForm, severity) -> int | None:
    """Preselect the severity a forum question suggested; None when it suggested none (or nothing usable)."""
    if type(severity) is int and severity in sla.SEVERITIES:
        form.severity.data = str(severity)
        return severity
    return None


def _answers_for(title: str | None) -> list[dict]:
    """Articles and solved threads that may answer the case, from the forum composer's one service."""
    return deflection.find_answers(title or "", current_user, current_app.config["FORUMS_DEFLECTION_RESULTS"])


def _new_page(form: forms.CaseForm, thread, status: int = 200, **extra):
    """The case form, with the first-response due time of each severity for a case opened now."""
    from kb.templating import viewer_zone

    due = actions.response_preview(current_user.organization, viewer_zone())
    return render_template("cases/new.html", form=form, thread=thread, due=due, suggestion=extra.pop("suggestion", None),
                           **extra, **actions.policy_context()), status


def _files_refused(form, thread, exc: UploadError):
    """The new-case form again, everything typed kept, saying what is wrong with the files."""
    form.files.errors.append(exc.message)
    return _new_page(form, thread, exc.status)


def _sla_sentence(case: Case) -> str:
    from kb.templating import viewer_zone

    return actions.sla_sentence(case, viewer_zone().key)


@bp.route("/cases/<int:number>")
@login_required
def detail(number: int):
    """One case: its details, SLA clock and timeline (internal notes for staff only)."""
    # The timeline with its authors in one query: the page costs the same with 1 or 100 comments.
    case = case_page.case_or_404(number, selectinload(Case.events).joinedload(CaseEvent.author))
    context = case_page.context(case)
    clocks.keep_page_until_due(context["sla"], context["update"])
    response = render_template("cases/detail.html", **context)
    activity.mark_case_read(current_user, case)
    db.session.commit()
    return response


@bp.post("/cases/<int:number>/comment")
@login_required
@_limit()
def comment(number: int):
    """Add a customer's comment, or take the staff composer's reply or note and changes; email the watchers."""
    case = case_page.case_or_404(number)
    if current_user.is_staff:
        return _staff_update(case)
    form = forms.CommentForm(prefix="comment")
    status = 400
    if form.validate_on_submit():
        try:
            files = attachments.from_uploads(form.files.data)
            attachments.check(case, files)
            events = actions.add_comment(case, current_user, form.body.data)
            db.session.flush()
            attachments.take(files, uploader=current_user, case=case, event=events[0])
        except actions.CaseError as exc:
            form.body.errors.append(str(exc))
        except UploadError as exc:
            db.session.rollback()
            form.files.errors.append(exc.message)
            status = exc.status
        else:
            activity.record(case, events, current_user)
            notify.send_public_update(case, events, current_user)
            db.session.commit()
            flash("Your comment was added.", "success")
            return redirect(case_url(case) + f"#event-{events[0].id}")
    return case_page.again(case, status, comment_form=form)


def _staff_update(case: Case):
    """One staff submit: a reply or an internal note (by the button pressed) plus status, severity, assignee."""
    form = case_page.update_form(case)
    if form.validate_on_submit():
        chosen = form.assignee.data or ""
        update = composer.StaffUpdate(
            body=form.body.data or "", mode=request.form.get("update-send", ""), status=form.status.data,
            severity=form.severity.data, severity_reason=form.severity_reason.data or "",
            assign=chosen != str(case.assignee_id or ""),
            assignee=db.session.get(User, int(chosen)) if chosen else None,
        )
        errors = composer.check(update, case)
        files = attachments.from_uploads(form.files.data)
        status = 400
        if files and not actions.clean(update.body).strip():
            errors.setdefault("files", "Write a reply or an internal note to go with the files.")
        if not errors:
            try:
                attachments.check(case, files)
                events = composer.apply(update, case, current_user)
                db.session.flush()
                attachments.take(files, uploader=current_user, case=case, event=events[0] if files else None)
            except actions.CaseError as exc:
                errors = {"body": str(exc)}
            except UploadError as exc:
                db.session.rollback()
                errors, status = {"files": exc.message}, exc.status
        if not errors:
            activity.record(case, events, current_user)
            notify.send_public_update(case, events, current_user)
            db.session.commit()
            flash("Internal note added." if update.mode == composer.NOTE else "Sent to the customer."
                  if update.body.strip() else "The case is updated.", "success")
            anchor = f"#event-{events[0].id}" if events else ""
            return redirect(case_url(case) + anchor)
        for name, message in errors.items():
            getattr(form, name).errors.append(message)
        return case_page.again(case, status, update_form=form)
    return case_page.again(case, 400, update_form=form)


@bp.post("/cases/<int:number>/status")
@login_required
@_limit()
def status(number: int):
    """Staff set the status; customers close, or reopen a resolved or closed case."""
    case = case_page.case_or_404(number)
    form = forms.StatusForm(prefix="status")
    if form.validate_on_submit():
        try:
            event = actions.change_status(case, current_user, form.status.data)
        except actions.CaseError as exc:
            form.status.errors.append(str(exc))
            return case_page.again(case, 403, status_form=form)
        activity.record(case, [event], current_user)
        if event is not None:
            notify.send_public_update(case, [event], current_user)
        db.session.commit()
        if event is not None:
            flash(f"The case is now {case.status.label.lower()}.", "success")
        return redirect(case_url(case))
    return case_page.again(case, 400, status_form=form)


@bp.post("/cases/<int:number>/escalate")
@login_required
@_limit()
def escalate(number: int):
    """A customer asks for more attention, with a reason; staff are told at once."""
    case = case_page.case_or_404(number)
    form = forms.EscalateForm(prefix="escalate")
    if form.validate_on_submit():
        try:
            event = actions.escalate(case, current_user, form.reason.data)
        except actions.CaseError as exc:
            form.reason.errors.append(str(exc))
        else:
            activity.record(case, [event], current_user)
            notify.send_escalation_alert(case, event)
            notify.send_public_update(case, [event], current_user)
            db.session.commit()
            flash("The case is escalated. The support team has been told and will contact you.", "success")
            return redirect(case_url(case))
    return case_page.again(case, 400, escalate_form=form)


@bp.post("/cases/<int:number>/watch")
@login_required
@_limit()
def watch(number: int):
    """Start or stop getting an email for each public update."""
    case = case_page.case_or_404(number)
    if not forms.EmptyForm().validate_on_submit():
        abort(400)
    wanted = request.form.get("watch") == "1"
    actions.set_watching(case, current_user, wanted)
    db.session.commit()
    flash("You will get an email for each update." if wanted else "You will no longer get emails about this case.", "success")
    return redirect(case_url(case))


@bp.post("/cases/<int:number>/link-thread")
@login_required
@_limit()
def link_thread(number: int):
    """Link a forum thread the user can read to this case."""
    case = case_page.case_or_404(number)
    if not permissions.can_link_thread(current_user, case):
        abort(404)
    form = forms.LinkThreadForm(prefix="link")
    if form.validate_on_submit():
        thread_id = links.parse_thread_ref(form.thread.data)
        thread = links.readable_thread(current_user, thread_id) if thread_id else None
        if thread is None:
            form.thread.errors.append("No forum thread you can read has that address or number.")
        else:
            try:
                links.link_thread(case, thread, current_user)
            except actions.CaseError as exc:
                form.thread.errors.append(str(exc))
            else:
                db.session.commit()
                flash(f"Linked the thread “{thread.title}”.", "success")
                return redirect(case_url(case))
    return case_page.again(case, 400, link_form=form)


@bp.post("/cases/<int:number>/files/<int:file_id>/delete")
@login_required
@_limit()
def delete_file(number: int, file_id: int):
    """Staff remove a file from a case; the timeline records who and when."""
    case = case_page.case_or_404(number)
    stored = attachments.file_of_case(case, file_id)
    if stored is None or not permissions.can_work_case(current_user, case):
        abort(404)
    if not forms.EmptyForm().validate_on_submit():
        abort(400)
    attachments.remove(case, stored, current_user)
    db.session.commit()
    flash(f"Deleted “{stored.filename}”.", "success")
    return redirect(case_url(case) + "#files-heading")
