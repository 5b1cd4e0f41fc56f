"""Places where a feature plugs into pages owned by the site as a whole.

Lower layers never import higher ones; instead each feature registers what it contributes
(a navigation link, a home-page section, sitemap entries, a health check, a step of
``kb init``, a piece of another feature's page) in its init_app().
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from flask import Flask


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
        "kb_hooks", {"nav": [], "home": [], "sitemap": [], "health": {}, "init": [], "slots": {}, "notifications": {}}
    )


def register_nav(app: Flask, label: str, endpoint: str, order: int, visible=None) -> None:
    _registry(app)["nav"].append(NavLink(label, endpoint, order, visible or (lambda user: True)))


def register_home_section(app: Flask, template: str, context: Callable[[object], dict], order: int) -> None:
    _registry(app)["home"].append(HomeSection(template, context, order))


def register_sitemap(app: Flask, entries: Callable[[], Iterable[tuple[str, object]]]) -> None:
    """``entries()`` yields (absolute-or-root-relative URL, last-modified datetime or None)."""
    _registry(app)["sitemap"].append(entries)


def register_health_check(app: Flask, name: str, check: Callable[[], None]) -> None:
    """``check()`` raises when the part it checks is unusable."""
    _registry(app)["health"][name] = check


def nav_links(app: Flask, user) -> list[NavLink]:
    return sorted((n for n in _registry(app)["nav"] if n.visible(user)), key=lambda n: n.order)


def home_sections(app: Flask) -> list[HomeSection]:
    return sorted(_registry(app)["home"], key=lambda s: s.order)


def sitemap_sources(app: Flask) -> list:
    return list(_registry(app)["sitemap"])


def health_checks(app: Flask) -> dict[str, Callable[[], None]]:
    return dict(_registry(app)["health"])


class InitStepError(RuntimeError):
    """A ``kb init`` step found something the operator must fix; the message says what and how."""


def register_init_step(app: Flask, order: int, label: str, step: Callable[[], str | None]) -> None:
    """``step()`` runs in an app context during ``kb init`` and returns a one-line summary.

    It raises InitStepError for a problem to fix; the other steps still run and ``kb init`` exits 1.
    """
    _registry(app)["init"].append((order, label, step))


def init_steps(app: Flask) -> list[tuple[str, Callable[[], str | None]]]:
    return [(label, step) for _, label, step in sorted(_registry(app)["init"], key=lambda s: s[0])]


def register_slot(app: Flask, slot: str, render: Callable[..., str]) -> None:
    """Let a higher feature add HTML to a lower feature's page, e.g. cases on a forum thread.

    The lower feature's template calls ``{{ slot('thread-aside', thread=thread) }}``; each registered
    ``render(**kwargs)`` returns markup (already escaped, e.g. from render_template) or ''.
    """
    _registry(app)["slots"].setdefault(slot, []).append(render)


def render_slot(app: Flask, slot: str, **kwargs) -> str:
    return "".join(render(**kwargs) for render in _registry(app)["slots"].get(slot, []))


def register_metric(app: Flask, name: str, documentation: str, collect: Callable[[], dict | float],
                    labels: tuple[str, ...] = ()) -> None:
    """A gauge read at every ``/metrics`` scrape, e.g. a backlog counted in the database.

    ``collect()`` returns a number when ``labels`` is empty, else a dict mapping one tuple of label
    values to a number, e.g. ``{("2", "breached"): 3}`` for labels ``("severity", "sla")``.
    """
    _registry(app).setdefault("metrics", {})[name] = (documentation, labels, collect)


def metrics(app: Flask) -> dict[str, tuple[str, tuple[str, ...], Callable[[], dict | float]]]:
    return dict(_registry(app).get("metrics", {}))


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


def register_notification_source(app: Flask, name: str, source: NotificationSource) -> None:
    _registry(app)["notifications"][name] = source


def notification_sources(app: Flask) -> dict[str, NotificationSource]:
    return dict(_registry(app)["notifications"])
