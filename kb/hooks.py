"""Places where a feature plugs into pages owned by the site as a whole, and their written contract.

Lower layers never import higher ones; instead each feature registers what it contributes
(a navigation link, a home-page section, a stylesheet, sitemap entries, a health check, a step of
``kb init``, a piece of another feature's page) in its init_app(). Where each contribution goes is
decided here, in ``ORDER``, not by numbers spread over the features; a slot is one of ``SLOTS``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Iterable

from flask import Flask

log = logging.getLogger(__name__)

# The one order table: nav links by endpoint, home sections by template, init steps by name,
# stylesheets by file name (static/css/<name>.css); first listed comes first. A contribution
# whose key is missing here is a wiring mistake and fails when it is registered.
ORDER: dict[str, tuple[str, ...]] = {
    "nav": (
        "articles.index",
        "forums.index",
        "cases.index",
        "cases.support",
        "cases.staff_queue",
        "articles.review_queue",
        "forums.moderation_queue",
        "accounts.admin_users",
    ),
    "home": (
        "cases/_home_section.html",
        "articles/_home_categories.html",
        "articles/_home_articles.html",
        "forums/_home_section.html",
    ),
    "init": ("articles.content", "forums.categories", "forums.posts", "search.index"),
    "stylesheets": ("site", "pygments", "articles", "search", "forums", "cases", "attachments"),
}


@dataclass(frozen=True)
class Slot:
    """A place in a lower feature's page that a higher feature fills: who renders it and with what."""

    name: str
    template: str  # the template that calls {{ slot(name, ...) }}
    arguments: tuple[str, ...]  # the keyword arguments every renderer receives
    purpose: str


THREAD_ASIDE = Slot("thread-aside", "forums/thread.html", ("thread",),
                    "Beside a forum thread: the cases linked to it, and opening a case from it.")
COMPOSER_GUIDANCE = Slot("composer-guidance", "forums/_outage.html", (),
                         "In the forum composer's outage notice: when a case is the better route, and severities.")
USER_MENU = Slot("user-menu", "base.html", (),
                 "In the header for signed-in users, before their name: e.g. notifications and their unread count.")
ADMIN_ORGANIZATION = Slot("admin-organization", "accounts/admin_organization.html", ("organization",),
                          "On an organisation's admin page: what other features hold for it, e.g. its open cases.")
SLOTS: dict[str, Slot] = {slot.name: slot for slot in (THREAD_ASIDE, COMPOSER_GUIDANCE, USER_MENU, ADMIN_ORGANIZATION)}


class HookError(RuntimeError):
    """A contribution or a slot that breaks the contract above."""


class InitStepError(RuntimeError):
    """A ``kb init`` step found something the operator must fix; the message says what and how."""


@dataclass(frozen=True)
class NavLink:
    label: str
    endpoint: str
    order: int
    visible: Callable[[object], bool] = lambda user: True


@dataclass(frozen=True)
class HomeSection:
    """A block on the home page: a template rendered with the context its function returns."""

    template: str
    context: Callable[[object], dict]
    order: int


def _registry(app: Flask) -> dict:
    return app.extensions.setdefault(
        "kb_hooks",
        {"nav": [], "home": [], "sitemap": [], "health": {}, "init": [], "slots": {}, "stylesheets": [],
         "notifications": {}},
    )


def _position(table: str, key: str) -> int:
    try:
        return ORDER[table].index(key)
    except ValueError:
        raise HookError(f"{key!r} has no place in kb.hooks.ORDER[{table!r}]; add it there") from None


def register_nav(app: Flask, label: str, endpoint: str, *, visible=None) -> None:
    _registry(app)["nav"].append(NavLink(label, endpoint, _position("nav", endpoint), visible or (lambda user: True)))


def register_home_section(app: Flask, template: str, context: Callable[[object], dict]) -> None:
    _registry(app)["home"].append(HomeSection(template, context, _position("home", template)))


def register_stylesheet(app: Flask, name: str) -> None:
    """``static/css/<name>.css`` goes into every page's head, in ORDER["stylesheets"] order."""
    _registry(app)["stylesheets"].append((_position("stylesheets", name), name))


def register_sitemap(app: Flask, entries: Callable[[], Iterable[tuple[str, object]]]) -> None:
    """``entries()`` yields (absolute-or-root-relative URL, last-modified datetime or None)."""
    _registry(app)["sitemap"].append(entries)


def register_health_check(app: Flask, name: str, check: Callable[[], None]) -> None:
    """``check()`` raises when the part it checks is unusable."""
    _registry(app)["health"][name] = check


def register_init_step(app: Flask, name: str, label: str, step: Callable[[], str | None]) -> None:
    """``step()`` runs in an app context during ``kb init`` and returns a one-line summary.

    It raises InitStepError for a problem to fix; the other steps still run and ``kb init`` exits 1.
    """
    _registry(app)["init"].append((_position("init", name), label, step))


def nav_links(app: Flask, user) -> list[NavLink]:
    return sorted((n for n in _registry(app)["nav"] if n.visible(user)), key=lambda n: n.order)


def home_sections(app: Flask) -> list[HomeSection]:
    return sorted(_registry(app)["home"], key=lambda s: s.order)


def stylesheets(app: Flask) -> list[str]:
    return [name for _, name in sorted(_registry(app)["stylesheets"])]


def sitemap_sources(app: Flask) -> list:
    return list(_registry(app)["sitemap"])


def health_checks(app: Flask) -> dict[str, Callable[[], None]]:
    return dict(_registry(app)["health"])


def init_steps(app: Flask) -> list[tuple[str, Callable[[], str | None]]]:
    return [(label, step) for _, label, step in sorted(_registry(app)["init"], key=lambda s: s[0])]


def register_metric(app: Flask, name: str, documentation: str, collect: Callable[[], dict | float],
                    labels: tuple[str, ...] = ()) -> None:
    """A gauge read at every ``/metrics`` scrape, e.g. a backlog counted in the database.

    ``collect()`` returns a number when ``labels`` is empty, else a dict mapping one tuple of label
    values to a number, e.g. ``{("2", "breached"): 3}`` for labels ``("severity", "sla")``.
    """
    _registry(app).setdefault("metrics", {})[name] = (documentation, labels, collect)


def metrics(app: Flask) -> dict[str, tuple[str, tuple[str, ...], Callable[[], dict | float]]]:
    return dict(_registry(app).get("metrics", {}))


def register_template_helper(app: Flask, name: str, helper: Callable) -> None:
    """A function every template may call by name, e.g. ``forum_can_edit(current_user, post)``.

    Each name is registered once, by the feature that owns the rule; a second registration is a
    wiring mistake and fails at start-up rather than shadowing the first.
    """
    if name in app.jinja_env.globals:
        raise HookError(f"template helper {name!r} is already registered")
    app.jinja_env.globals[name] = helper


def register_slot(app: Flask, slot: Slot, render: Callable[..., str]) -> None:
    """Let a higher feature add HTML to a lower feature's page, e.g. cases on a forum thread.

    The lower feature's template calls ``{{ slot('thread-aside', thread=thread) }}``; each registered
    ``render(**arguments)`` returns markup (already escaped, e.g. from render_template) or ''.
    """
    if SLOTS.get(slot.name) is not slot:
        raise HookError(f"{slot.name!r} is not one of kb.hooks.SLOTS")
    _registry(app)["slots"].setdefault(slot.name, []).append(render)


def render_slot(app: Flask, name: str, **kwargs) -> str:
    """What the registered renderers give; an unknown, unfilled or mis-called slot raises in debug and tests."""
    spec = SLOTS.get(name)
    renders = _registry(app)["slots"].get(name, [])
    problem = None
    if spec is None:
        problem = f"unknown slot {name!r} (kb.hooks.SLOTS lists them)"
    elif set(kwargs) != set(spec.arguments):
        problem = f"slot {name!r} takes {spec.arguments}, {spec.template} passed {tuple(kwargs)}"
    elif not renders:
        problem = f"slot {name!r} in {spec.template} is filled by no feature"
    if problem:
        if app.debug or app.testing:
            raise HookError(problem)
        log.warning("%s", problem)
        return ""
    return "".join(render(**kwargs) for render in renders)


def register_periodic(app: Flask, label: str, interval_setting: str, task: Callable[[], str | None]) -> None:
    """``task()`` runs in the worker every ``app.config[interval_setting]`` seconds, in an app context.

    It may run in several workers at once, so it must be safe to repeat; the worker commits after it
    and prints the one-line summary it returns.
    """
    _registry(app).setdefault("periodic", []).append((label, interval_setting, task))


def periodic_tasks(app: Flask) -> list[tuple[str, str, Callable[[], str | None]]]:
    return list(_registry(app).get("periodic", []))


def register_mail_source(app: Flask, write_out: Callable[[], int], oldest: Callable[[], object]) -> None:
    """``write_out()`` turns mail a feature queued in a compact form into outbox rows, one per
    recipient, committing as it goes, and returns how many it wrote; delivery calls every source
    first, so what it writes goes out in the same round. ``oldest()`` is when the oldest item still
    queued was queued (None when none is): the mail backlog's age, and its health check, count it."""
    _registry(app).setdefault("mail_sources", []).append((write_out, oldest))


def mail_sources(app: Flask) -> list[tuple[Callable[[], int], Callable[[], object]]]:
    return list(_registry(app).get("mail_sources", []))


@dataclass(frozen=True)
class NotificationSource:
    """A feature's on-site notifications, shown in the one /notifications list beside forum activity.

    ``newest(user, limit)`` returns up to ``limit`` items, newest first; each has ``key`` (str),
    ``created_at``, ``unread`` (bool) and ``html`` (escaped markup for one list line).
    ``mark_read(user, keys)`` marks those keys read (every one when ``keys`` is None).
    """

    count: Callable[[object], int]
    unread: Callable[[object], int]
    newest: Callable[[object, int], list]
    mark_read: Callable[[object, list | None], None]


def register_facet_labels(app: Flask, facet: str, labels: Callable[[], dict[str, str]]) -> None:
    """Display names for a search facet's stored values, e.g. category slug -> "Getting started".

    ``labels()`` runs in a request when the results page shows that facet; several features may
    name values of the same facet (article and forum categories), later registrations win a clash.
    """
    _registry(app).setdefault("facet_labels", {}).setdefault(facet, []).append(labels)


def facet_labels(app: Flask, facet: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for labels in _registry(app).get("facet_labels", {}).get(facet, []):
        names.update(labels())
    return names


def register_superseded_by(app: Flask, kind: str, parents: Callable[[list[int]], dict[int, tuple[str, int]]]) -> None:
    """Documents of ``kind`` that live on as another document, e.g. a thread turned into an article.

    ``parents(ids)`` maps those of the given ids that have one to (kind, id) of the document that
    replaces them; the results page then drops such a hit when its replacement is on the same page.
    """
    _registry(app).setdefault("superseded", {})[kind] = parents


def superseded_by(app: Flask) -> dict[str, Callable[[list[int]], dict[int, tuple[str, int]]]]:
    return dict(_registry(app).get("superseded", {}))


def register_notification_source(app: Flask, name: str, source: NotificationSource) -> None:
    _registry(app)["notifications"][name] = source


def notification_sources(app: Flask) -> dict[str, NotificationSource]:
    return dict(_registry(app)["notifications"])
