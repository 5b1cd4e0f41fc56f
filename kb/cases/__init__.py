"""Cases: severity guidance, support cases with SLA clocks, the staff queue, email in and out, the API."""

from __future__ import annotations

from flask import Flask

from kb.cases import policy_pages, staff_views  # noqa: F401  (register their pages on bp)
from kb.cases.views import bp


def init_app(app: Flask) -> None:
    from kb.cases import settings
    from kb.cases.api import api_bp
    from kb.cases.cli import mail_in_command, sla_sweep_command
    from kb.extensions import csrf
    from kb.hooks import register_home_section, register_metric, register_nav, register_sitemap

    settings.apply(app.config)
    _check_policy(app)
    app.register_blueprint(bp)
    # Bearer tokens, never cookies, authenticate the API, so there is no CSRF to guard against there.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.cli.add_command(sla_sweep_command)
    app.cli.add_command(mail_in_command)

    register_nav(app, "Support", "cases.index", 40, visible=lambda user: getattr(user, "is_authenticated", False))
    register_nav(app, "Support", "cases.support", 40, visible=lambda user: not getattr(user, "is_authenticated", False))
    register_nav(app, "Queue", "cases.staff_queue", 45, visible=lambda user: getattr(user, "is_staff", False))
    register_sitemap(app, lambda: [("/severity", None), ("/support", None)])
    register_home_section(app, "cases/_home_section.html", _home_context, 5)
    register_metric(app, "kb_cases_open", "Open support cases by severity and SLA state.", _open_case_counts,
                    labels=("severity", "sla"))

    @app.template_filter("case_status")
    def case_status_label(value) -> str:
        from kb.cases.models import CaseStatus

        return CaseStatus(value).label

    _register_slots(app)


def _register_slots(app: Flask) -> None:
    """Thread-page aside and composer guidance, shown by the forum pages."""
    from kb.cases import activity, links
    from kb.hooks import register_notification_source, register_slot

    register_slot(app, "thread-aside", links.render_thread_aside)
    register_slot(app, "composer-guidance", links.render_composer_guidance)
    register_slot(app, "admin-organization", _organization_cases)
    register_notification_source(app, "cases", activity.SOURCE)


def _organization_cases(organization) -> str:
    """The organisation's open cases, for its admin page."""
    from flask import render_template
    from sqlalchemy import select

    from kb.cases.models import OPEN_STATUSES, Case
    from kb.extensions import db

    cases = db.session.scalars(
        select(Case).where(Case.organization_id == organization.id, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.severity, Case.created_at)
    ).all()
    return render_template("cases/_organization_cases.html", cases=cases)


def _check_policy(app: Flask) -> None:
    """Refuse to start with business hours or targets the SLA clock cannot use."""
    from kb.cases import sla
    from kb.config import ConfigError

    try:
        sla.make_policy(
            opens=app.config.get("CASE_BUSINESS_OPENS"),
            closes=app.config.get("CASE_BUSINESS_CLOSES"),
            weekdays=app.config.get("CASE_BUSINESS_WEEKDAYS"),
            targets=app.config.get("CASE_SLA_TARGETS"),
            update_targets=app.config.get("CASE_UPDATE_TARGETS"),
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"The support policy settings (KB_CASE_BUSINESS_*, KB_CASE_SLA_TARGETS, KB_CASE_UPDATE_TARGETS) are not valid: {exc}") from None


def _home_context(user) -> dict:
    """Staff: queue counts; organisation members: their open cases; everyone else: nothing."""
    from kb.cases.actions import sla_status
    from kb.cases.models import Case, CaseStatus
    from kb.cases.permissions import can_open_case, visible_cases
    from kb.cases.queue import queue_counts
    from kb.extensions import db

    if getattr(user, "is_staff", False):
        return {"show": True, "staff": True, "counts": queue_counts()}
    if not can_open_case(user):
        return {"show": False}
    query = (visible_cases(user).where(Case.status.in_([s for s in CaseStatus if s.is_open]))
             .order_by(Case.updated_at.desc()).limit(5))
    return {"show": True, "staff": False, "entries": [(case, sla_status(case)) for case in db.session.scalars(query)]}


def _open_case_counts() -> dict[tuple[int, str], int]:
    """For /metrics: open cases counted by (severity, SLA state), from the same clock the queue uses."""
    from collections import Counter

    from kb.cases.queue import queue

    return dict(Counter((entry.case.severity, entry.sla.state) for entry in queue()))
