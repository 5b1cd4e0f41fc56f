"""Search pages: results (HTML or JSON), type-ahead suggestions, click tracking and staff analytics."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from kb import page_cache
from kb.accounts.permissions import staff_required
from kb.extensions import limiter
from kb.hooks import facet_labels, superseded_by
from kb.search import analytics
from kb.search.api import search, suggest
from kb.security import is_safe_next, query_args

bp = Blueprint("search", __name__)

FACET_PARAMS = (("kind", "kind"), ("category", "category"), ("article_type", "type"), ("versions", "version"))
KIND_LABELS = {"article": "Articles", "thread": "Forum threads"}


def _int_arg(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        abort(400, description=f"“{name}” must be a whole number from 1 to {maximum}.")
    return int(raw)


def _with_query(base: str, args: list[tuple[str, object]]) -> str:
    """``base`` with this query string, encoded as url_for encodes one (werkzeug.urls._urlencode)."""
    return base + ("?" + urlencode(args, safe="!$'()*,/:;?@") if args else "")


def _results_links():
    """link(*names, **overrides): this results page's address (page 1) without the arguments
    ``names``, with ``overrides``. The page's links (twenty-odd facet, sort and result links) share
    one route build instead of one each."""
    base = url_for("search.results")
    current = {k: v for k, v in query_args().items() if k != "page"}

    def link(*names: str, **overrides) -> str:
        args = {k: v for k, v in current.items() if k not in names}
        args.update({k: v for k, v in overrides.items() if v})
        return _with_query(base, list(args.items()))

    return link


def _click_links(q: str):
    """link(url, position): a result's address through the click counter."""
    base = url_for("search.click")
    return lambda url, position: _with_query(base, [("url", url), ("q", q), ("pos", position)])


def _drop_superseded(hits: list) -> list:
    """Leave out a hit whose replacement (a thread's article) is on the same page: one result, not two."""
    on_page = {(hit.kind, hit.id) for hit in hits}
    dropped: set[tuple[str, int]] = set()
    for kind, parents in superseded_by(current_app).items():
        ids = [hit.id for hit in hits if hit.kind == kind and hit.id]
        for doc_id, parent in parents(ids).items():
            if tuple(parent) in on_page:
                dropped.add((kind, doc_id))
    return [hit for hit in hits if (hit.kind, hit.id) not in dropped]


def _humanise(value: str) -> str:
    """A stored slug as a reader would write it when no feature names it: "how-to" -> "How to"."""
    text = value.replace("-", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _facet_names(found) -> dict[str, dict[str, str]]:
    """Display names for every facet value on the page: what the features call them, else the slug humanised."""
    names: dict[str, dict[str, str]] = {"kind": dict(KIND_LABELS)}
    from_hits = {hit.category: hit.category_name for hit in found.results if hit.category and hit.category_name}
    for field, _param in FACET_PARAMS:
        if field == "kind":
            continue
        known = {**from_hits, **facet_labels(current_app, field)} if field == "category" else facet_labels(current_app, field)
        values = set(found.facets.get(field, {}))
        for hit in found.results:
            values.update(hit.facets.get(field, []))
        names[field] = {value: known.get(value) or (value if field == "versions" else _humanise(value)) for value in values}
    return names


@bp.route("/search")
@limiter.limit(lambda: current_app.config["SEARCH_RATE_LIMIT"])
def results():
    """Search results with facets, filters, sorting and pagination; ?format=json for scripts."""
    cached = page_cache.cached_response()  # after the rate limit above
    if cached is not None:
        return cached
    config = current_app.config
    q = request.args.get("q", "")
    page = _int_arg("page", 1, int(config["SEARCH_MAX_PAGE"]))
    per_page = _int_arg("per_page", int(config["SEARCH_PER_PAGE"]), int(config["SEARCH_PER_PAGE_MAX"]))
    sort = request.args.get("sort", "relevance")
    kind = request.args.get("kind", "")
    filters = {"category": request.args.get("category", ""), "type": request.args.get("type", ""),
               "version": request.args.get("version", "")}
    found = search(q, current_user, kinds=[kind] if kind else None, filters=filters,
                   page=page, per_page=per_page, sort=sort)
    counted = analytics.record_query(q, found.total) if page == 1 and q.strip() else False
    # A page served from the cache counts its search again, once per response.
    page_cache.fragment("search-query", counted or None, text=q, result_count=found.total)
    if request.args.get("format") == "json":
        return jsonify(found.as_json())
    found.results = _drop_superseded(found.results)
    return render_template(
        "search/results.html", found=found, q=q, kind=kind, filters=filters,
        facet_params=FACET_PARAMS, facet_names=_facet_names(found), results_link=_results_links(), click_link=_click_links(q),
        max_length=int(config["SEARCH_QUERY_MAX_LENGTH"]),
    )


@bp.route("/search/suggest")
def suggestions():
    """Title suggestions for the type-ahead, as JSON."""
    kind = request.args.get("kind", "")
    return jsonify({"suggestions": suggest(request.args.get("q", ""), current_user,
                                           int(current_app.config["SEARCH_SUGGEST_LIMIT"]),
                                           kinds=[kind] if kind else None)})


@bp.route("/search/click")
@limiter.limit(lambda: current_app.config["SEARCH_CLICK_RATE_LIMIT"])
def click():
    """Record which result was opened, then go there (same-site addresses only)."""
    target = request.args.get("url", "")
    if not is_safe_next(target):
        return redirect(url_for("search.results"))
    pos = request.args.get("pos", "0")
    analytics.record_click(request.args.get("q", ""), target, int(pos) if pos.isdigit() and len(pos) < 6 else 0)
    return redirect(target)


@bp.route("/staff/search-analytics")
@staff_required
def search_analytics():
    """What people search for, what finds nothing and what nobody opens: material for new articles."""
    period = request.args.get("period", analytics.DEFAULT_PERIOD)
    if period not in analytics.PERIODS:
        period = analytics.DEFAULT_PERIOD
    data = analytics.report(period, int(current_app.config["SEARCH_ANALYTICS_ROWS"]))
    return render_template("search/analytics.html", data=data, period=period, periods=analytics.PERIODS)
