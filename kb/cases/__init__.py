"""Cases: severity guidance, support cases with SLA clocks, the staff queue, email in and out, the API."""

from __future__ import annotations

from flask import Flask

from kb.cases import policy_pages, staff_views  # noqa: F401  (register their pages on bp)
from kb.cases.views import bp


def _register_case_pages(app: Flask) -> None:
    """A case page is kept for each signed-in user who reads it, and so is a thread page's linked case:
    any change to a case, its organization or its files ends them, and so does a notification or a
    watch of the user's own."""
    from kb import page_cache
    from kb.accounts.models import Organization
    from kb.cases.models import Case, CaseEvent, CaseNotification, CaseThreadLink, CaseWatcher
    from kb.uploads.models import StoredFile

    page_cache.watch(app, "cases", Case, CaseEvent, CaseWatcher, CaseThreadLink, Organization, StoredFile)
    for model in (CaseNotification, CaseWatcher):
        page_cache.watch_viewer(app, model, "user_id")
    page_cache.register_page(app, "cases.detail", "cases", "forums", signed_in=True)
    page_cache.signed_in_also_shows(app, "forums.thread", "cases")


def init_app(app: Flask) -> None:
    from kb import page_cache
    from kb.cases import attachments, contributions, settings
    from kb.cases.api import api_bp
    from kb.cases.cli import attachments_prune_command, mail_in_command, sla_sweep_command
    from kb.cases.sweep import sweep_task
    from kb.cases.urls import case_url
    from kb.extensions import csrf
    from kb.uploads.request_size import accept_uploads
    from kb.hooks import (
        register_home_section,
        register_metric,
        register_nav,
        register_periodic,
        register_sitemap,
        register_stylesheet,
        register_template_helper,
    )

    settings.apply(app.config)
    settings.check_policy(app)
    app.register_blueprint(bp)
    attachments.register()
    for endpoint in ("cases.new", "cases.comment", "cases_api.add_attachments"):
        accept_uploads(app, endpoint, attachments.request_limit)
    # Bearer tokens, never cookies, authenticate the API, so there is no CSRF to guard against there.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.cli.add_command(sla_sweep_command)
    app.cli.add_command(mail_in_command)
    app.cli.add_command(attachments_prune_command)
    register_periodic(app, "SLA sweep", "SLA_SWEEP_INTERVAL", sweep_task)

    register_nav(app, "Support", "cases.index", visible=lambda user: getattr(user, "is_authenticated", False))
    register_nav(app, "Support", "cases.support", visible=lambda user: not getattr(user, "is_authenticated", False))
    register_nav(app, "Queue", "cases.staff_queue", visible=lambda user: getattr(user, "is_staff", False))
    register_sitemap(app, lambda: [("/severity", None), ("/support", None)])
    # The policy pages come from the settings alone: only PAGE_CACHE_SECONDS ends them.
    page_cache.register_page(app, "cases.severity")
    page_cache.register_page(app, "cases.support")
    _register_case_pages(app)
    register_home_section(app, "cases/_home_section.html", contributions.home_context)
    register_stylesheet(app, "cases")
    register_stylesheet(app, "attachments")
    register_metric(app, "kb_cases_open", "Open support cases by severity and SLA state.", contributions.open_case_counts,
                    labels=("severity", "sla"))
    register_template_helper(app, "case_url", case_url)

    @app.template_filter("case_status")
    def case_status_label(value) -> str:
        from kb.cases.models import CaseStatus

        return CaseStatus(value).label

    _register_slots(app)


def _register_slots(app: Flask) -> None:
    """Thread-page aside and composer guidance, shown by the forum pages."""
    from kb.cases import activity, contributions, links
    from kb.hooks import ADMIN_ORGANIZATION, COMPOSER_GUIDANCE, THREAD_ASIDE, register_notification_source, register_slot

    register_slot(app, THREAD_ASIDE, links.render_thread_aside)
    register_slot(app, COMPOSER_GUIDANCE, links.render_composer_guidance)
    register_slot(app, ADMIN_ORGANIZATION, contributions.organization_cases)
    register_notification_source(app, "cases", activity.SOURCE)
