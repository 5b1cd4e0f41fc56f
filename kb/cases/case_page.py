"""The case page as every handler renders it: the case if the reader may see it, the forms it
offers, and the page again with a refused form's errors and everything typed."""

from __future__ import annotations

from flask import abort, current_app, render_template
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from kb.accounts.models import User
from kb.accounts.permissions import active_staff
from kb.cases import actions, attachments, composer, forms, links, permissions
from kb.cases import severity as severity_info
from kb.cases.models import Case, CaseStatus, EventKind
from kb.extensions import db


def case_or_404(number, *options) -> Case:
    """The case, if this user may see it; 404 otherwise, so other organisations' cases stay invisible."""
    case = actions.case_by_number(number, *options)
    if case is None or not permissions.can_see_case(current_user, case):
        abort(404)
    return case


def assignee_choices() -> list[SelectChoice]:
    """Nobody, or an active staff member: the same list the page offers and the handler accepts."""
    staff = db.session.scalars(active_staff().order_by(User.display_name))
    return [SelectChoice("", "Nobody")] + [SelectChoice(str(u.id), u.display_name) for u in staff]


def update_form(case: Case) -> forms.StaffUpdateForm:
    form = forms.StaffUpdateForm(prefix="update", data={"assignee": str(case.assignee_id or "")})
    form.assignee.choices = assignee_choices()
    return form


def context(case: Case, **overrides) -> dict:
    staff = current_user.is_staff
    assign_form = forms.AssignForm(prefix="assign")
    if staff:
        assign_form.assignee.choices = assignee_choices()
        assign_form.assignee.data = str(case.assignee_id or "")
    context = {
        "case": case,
        "events": case.events if staff else actions.public_events(case),
        "sla": actions.sla_status(case),
        "update": actions.clocks.update_status(case),
        "update_form": update_form(case) if staff and "update_form" not in overrides else overrides.get("update_form"),
        "button_label": composer.button_label,
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
        **attachments.page_context(case, current_user),
    }
    context.update(overrides)
    return context


def again(case: Case, status: int, **overrides) -> tuple[str, int]:
    """The case page once more, with the refused form (as ``overrides``) showing its errors."""
    return render_template("cases/detail.html", **context(case, **overrides)), status
