"""Case pages: the case list, opening and working a case, the staff queue (policy pages: policy_pages.py)."""

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
    url_for,
)
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from kb.accounts.models import User
from kb.accounts.permissions import active_staff, staff_required
from kb.cases import actions, forms, links, notify, permissions
from kb.cases import severity as severity_info
from kb.cases.models import Case, CaseStatus, EventKind
from kb.cases.queue import SLA_FILTERS, queue
from kb.cases.urls import case_url
from kb.extensions import db, limiter
from kb.security import int_arg

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
    return render_template("cases/index.html", page=page, show=show, sla_status=actions.sla_status)


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
@_limit()
def new():
    """Open a case, with the severity guidance and questionnaire inline; nothing typed is lost."""
    if not permissions.can_open_case(current_user):
        return render_template("cases/no_organization.html"), 403 if request.method == "POST" else 200
    form = forms.CaseForm()
    thread = None
    if request.method == "GET":
        draft = session.pop("case_draft", None) if request.args.get("from") == "draft" else None
        if isinstance(draft, dict):
            form.title.data = str(draft.get("title") or "")[: current_app.config["CASE_TITLE_MAX_LENGTH"]]
            form.description.data = str(draft.get("description") or "")
        if request.args.get("thread"):
            thread = links.readable_thread(current_user, request.args.get("thread"))
            if thread is None:
                abort(404)
            prefill = links.draft_from_thread(thread)
            form.title.data = prefill["title"]
            form.description.data = prefill["description"]
            form.thread.data = str(thread.id)
    elif form.thread.data:
        thread = links.readable_thread(current_user, form.thread.data)
    suggestion = None
    if request.method == "POST" and request.form.get("action") == "suggest":
        number, reason = severity_info.suggest_severity(form.answers())
        suggestion = (number, reason)
        if number and not form.severity.data:
            form.severity.data = str(number)
        return render_template("cases/new.html", form=form, suggestion=suggestion, thread=thread,
                               **actions.policy_context())
    if form.validate_on_submit():
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
        notify.send_case_opened(case, actions.sla_sentence(case))
        db.session.commit()
        if link_problem:
            flash(f"{link_problem} This case is not linked to the thread.", "info")
        flash(f"Case #{case.number} is open. {_sla_sentence(case)}", "success")
        return redirect(case_url(case))
    if request.method == "POST" and any(form.answers().values()):
        suggestion = severity_info.suggest_severity(form.answers())
    status = 400 if request.method == "POST" else 200
    return render_template("cases/new.html", form=form, suggestion=suggestion, thread=thread,
                           **actions.policy_context()), status


def _sla_sentence(case: Case) -> str:
    from kb.templating import viewer_zone

    return actions.sla_sentence(case, viewer_zone().key)


def _case_or_404(number) -> Case:
    """The case, if this user may see it; 404 otherwise, so other organisations' cases stay invisible."""
    case = actions.case_by_number(number)
    if case is None or not permissions.can_see_case(current_user, case):
        abort(404)
    return case


def _assignee_choices() -> list[SelectChoice]:
    """Nobody, or an active staff member: the same list the page offers and the handler accepts."""
    staff = db.session.scalars(active_staff().order_by(User.display_name))
    return [SelectChoice("", "Nobody")] + [SelectChoice(str(u.id), u.display_name) for u in staff]


def _detail_context(case: Case, **overrides) -> dict:
    staff = current_user.is_staff
    assign_form = forms.AssignForm(prefix="assign")
    if staff:
        assign_form.assignee.choices = _assignee_choices()
        assign_form.assignee.data = str(case.assignee_id or "")
    context = {
        "case": case,
        "events": case.events if staff else actions.public_events(case),
        "sla": actions.sla_status(case),
        "severity_info": severity_info.get(case.severity),
        "comment_form": forms.CommentForm(prefix="comment"),
        "status_form": forms.StatusForm(prefix="status", status=case.status.value),
        "severity_form": forms.SeverityForm(prefix="severity", severity=str(case.severity)),
        "assign_form": assign_form,
        "escalate_form": forms.EscalateForm(prefix="escalate"),
        "link_form": forms.LinkThreadForm(prefix="link"),
        "button_form": forms.EmptyForm(),
        "watching": actions.is_watching(case, current_user),
        "can_escalate": permissions.can_escalate(current_user, case),
        "can_link": permissions.can_link_thread(current_user, case),
        "threads": links.linked_threads(case, current_user),
        "summary_pending": staff and links.summary_pending(case),
        "escalation_article": current_app.config["CASE_ESCALATION_ARTICLE"],
        "status_labels": {s.value: s.label for s in CaseStatus},
        "EventKind": EventKind,
    }
    context.update(overrides)
    return context


@bp.route("/cases/<int:number>")
@login_required
def detail(number: int):
    """One case: its details, SLA clock and timeline (internal notes for staff only)."""
    case = _case_or_404(number)
    return render_template("cases/detail.html", **_detail_context(case))


@bp.post("/cases/<int:number>/comment")
@login_required
@_limit()
def comment(number: int):
    """Add a public comment (or, for staff, an internal note) and email the watchers."""
    case = _case_or_404(number)
    form = forms.CommentForm(prefix="comment")
    if form.validate_on_submit():
        internal = bool(form.internal.data) and current_user.is_staff
        try:
            events = actions.add_comment(case, current_user, form.body.data, internal=internal)
        except actions.CaseError as exc:
            form.body.errors.append(str(exc))
        else:
            event = events[0]
            if not internal:
                notify.send_public_update(case, events, current_user)
            db.session.commit()
            flash("Internal note added." if internal else "Your comment was added.", "success")
            return redirect(case_url(case) + f"#event-{event.id}")
    return render_template("cases/detail.html", **_detail_context(case, comment_form=form)), 400


@bp.post("/cases/<int:number>/status")
@login_required
@_limit()
def status(number: int):
    """Staff set the status; customers close, or reopen a resolved or closed case."""
    case = _case_or_404(number)
    form = forms.StatusForm(prefix="status")
    if form.validate_on_submit():
        try:
            event = actions.change_status(case, current_user, form.status.data)
        except actions.CaseError as exc:
            form.status.errors.append(str(exc))
            return render_template("cases/detail.html", **_detail_context(case, status_form=form)), 403
        if event is not None:
            notify.send_public_update(case, [event], current_user)
        db.session.commit()
        if event is not None:
            flash(f"The case is now {case.status.label.lower()}.", "success")
        return redirect(case_url(case))
    return render_template("cases/detail.html", **_detail_context(case, status_form=form)), 400


@bp.post("/cases/<int:number>/severity")
@login_required
@_limit()
def change_severity(number: int):
    """Staff re-grade a case; the due time follows."""
    case = _case_or_404(number)
    if not permissions.can_work_case(current_user, case):
        abort(403)
    form = forms.SeverityForm(prefix="severity")
    if form.validate_on_submit():
        event = actions.change_severity(case, current_user, form.severity.data)
        if event is not None:
            notify.send_public_update(case, [event], current_user)
        db.session.commit()
        if event is not None:
            flash(f"Severity changed to {severity_info.label(case.severity)}.", "success")
        return redirect(case_url(case))
    return render_template("cases/detail.html", **_detail_context(case, severity_form=form)), 400


@bp.post("/cases/<int:number>/assign")
@login_required
@_limit()
def assign(number: int):
    """Staff record who is working the case ("take" assigns it to yourself)."""
    case = _case_or_404(number)
    if not permissions.can_work_case(current_user, case):
        abort(403)
    if request.form.get("take") == "1":
        if not forms.EmptyForm().validate_on_submit():
            abort(400)
        assignee = current_user._get_current_object()
    else:
        form = forms.AssignForm(prefix="assign")
        form.assignee.choices = _assignee_choices()
        if not form.validate_on_submit():
            return render_template("cases/detail.html", **_detail_context(case, assign_form=form)), 400
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


@bp.post("/cases/<int:number>/escalate")
@login_required
@_limit()
def escalate(number: int):
    """A customer asks for more attention, with a reason; staff are told at once."""
    case = _case_or_404(number)
    form = forms.EscalateForm(prefix="escalate")
    if form.validate_on_submit():
        try:
            event = actions.escalate(case, current_user, form.reason.data)
        except actions.CaseError as exc:
            form.reason.errors.append(str(exc))
        else:
            notify.send_escalation_alert(case, event)
            notify.send_public_update(case, [event], current_user)
            db.session.commit()
            flash("The case is escalated. The support team has been told and will contact you.", "success")
            return redirect(case_url(case))
    return render_template("cases/detail.html", **_detail_context(case, escalate_form=form)), 400


@bp.post("/cases/<int:number>/watch")
@login_required
@_limit()
def watch(number: int):
    """Start or stop getting an email for each public update."""
    case = _case_or_404(number)
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
    case = _case_or_404(number)
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
    return render_template("cases/detail.html", **_detail_context(case, link_form=form)), 400


@bp.route("/cases/<int:number>/summary", methods=["GET", "POST"])
@staff_required
@_limit()
def summary(number: int):
    """Staff post an edited, redacted summary of the resolution to the linked threads (or skip it)."""
    case = _case_or_404(number)
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
    """Open cases, most urgent first: breached, escalated, severity, time left, plan, age."""
    filters = {key: request.args.get(key, "") for key in ("severity", "status", "assignee", "plan", "sla", "escalated")}
    entries = queue(filters, viewer=current_user)
    per_page = current_app.config["CASE_QUEUE_PER_PAGE"]
    page_number = int_arg("page")
    page = _ListPage(entries, max(page_number, 1), per_page)
    return render_template("cases/staff_queue.html", page=page, filters=filters, sla_filters=SLA_FILTERS,
                           statuses=[s for s in CaseStatus if s.is_open], button_form=forms.EmptyForm())


class _ListPage:
    """Pagination over an already sorted list, with the attributes the pager macro reads."""

    def __init__(self, items: list, page: int, per_page: int):
        self.total = len(items)
        self.per_page = per_page
        self.pages = max(1, -(-self.total // per_page))
        self.page = min(page, self.pages)
        self.items = items[(self.page - 1) * per_page : self.page * per_page]
        self.has_prev, self.has_next = self.page > 1, self.page < self.pages
        self.prev_num, self.next_num = self.page - 1, self.page + 1
