"""Turning the app's URL map into concrete URLs filled with real objects."""

from __future__ import annotations

from werkzeug.routing import Rule
from werkzeug.routing.converters import NumberConverter

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def rules(app, methods: set[str] | None = None) -> list[Rule]:
    """Every rule except static files, optionally only those accepting one of ``methods``."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        if methods is not None and not (set(rule.methods or ()) & methods):
            continue
        found.append(rule)
    return sorted(found, key=lambda r: (r.rule, r.endpoint))


def is_api(rule: Rule) -> bool:
    return rule.rule.startswith("/api/")


def placeholder(rule: Rule, name: str) -> object:
    converter = rule._converters.get(name)
    return 999_999 if isinstance(converter, NumberConverter) else "no-such-thing"


def build(rule: Rule, values: dict[str, object] | None, *, lenient: bool = False) -> str | None:
    """The path for ``rule`` with its arguments taken from ``values``.

    Returns None when a value is missing, unless ``lenient``: then unknown arguments get a
    placeholder of the right type (enough where the answer does not depend on the object).
    """
    values = values or {}
    arguments = {}
    for name in rule.arguments:
        if name in values:
            arguments[name] = values[name]
        elif name in (rule.defaults or {}):
            continue
        elif lenient:
            arguments[name] = placeholder(rule, name)
        else:
            return None
    built = rule.build(arguments, append_unknown=False)
    return built[1] if built else None
