"""The PostgreSQL engine's hits as shown: each page's row, and its snippet from ts_headline with
only <mark> left after escaping."""

from __future__ import annotations

import html
import re

from markupsafe import Markup

from kb.search.engine import Hit
from kb.search.engines.postgres.models import statement

SNIPPET_WINDOW = 4  # snippet lengths of text around the first likely match that ts_headline reads
START, STOP = "\x02", "\x03"  # ts_headline's marks, swapped for <mark> once the text is escaped


def hits(connection, scored: list[tuple[tuple[str, int], float]], positive: str | None, query_params: dict,
         stems: list[str], chars: int) -> list[Hit]:
    """The hits for these (key, score), in that order, each with its snippet."""
    if not scored:
        return []
    words = max(10, chars // 7)
    options = f"StartSel={START}, StopSel={STOP}, MaxWords={words}, MinWords={max(5, words // 2)}"
    # ts_headline reads all the text it is given, and an excerpt may be SEARCH_SNIPPET_SOURCE_CHARS
    # long: as the Whoosh engine does, it gets the stretch around the first word that starts like
    # one of the query's stems. The text goes in escaped, so the parser keeps "<script>" as text
    # rather than dropping a tag.
    # A stem may end unlike its words ("histori" for "history"): all but its last letter.
    prefixes = sorted({stem[:max(5, len(stem) - 1)] for stem in stems if stem})
    # Whole words only: the stretch loses a word cut at either end.
    window = ("regexp_replace(regexp_replace(substr(d.excerpt, w.at, :window), "
              "CASE WHEN w.at > 1 THEN '^\\S*\\s+' ELSE '^$' END, ''), "
              "CASE WHEN w.at + :window <= length(d.excerpt) THEN '\\s+\\S*$' ELSE '^$' END, '')"
              if prefixes else "d.excerpt")
    at = ("CROSS JOIN LATERAL (SELECT greatest(1, regexp_instr(d.excerpt, :first_word, 1, 1, 0, 'i') - :before) "
          "AS at) AS w" if prefixes else "")
    headline = (f"ts_headline('kb_english', replace(replace(replace(translate({window}, :marks, ''), '&', '&amp;'), "
                f"'<', '&lt;'), '>', '&gt;'), ({positive}), :options)" if positive else "''")
    rows = connection.execute(statement(f"""
        SELECT d.kind, d.doc_id, d.title, d.url, d.category, d.category_name, d.tags, d.facets, d.badges,
               d.updated, d.summary, d.excerpt, {headline} AS headline
        FROM search_documents d
        JOIN unnest(CAST(:kinds AS text[]), CAST(:ids AS int[])) AS k(kind, doc_id)
          ON d.kind = k.kind AND d.doc_id = k.doc_id
        {at}
    """), {**query_params, "marks": START + STOP, "options": options,
           "first_word": r"\m(" + "|".join(re.escape(p) for p in prefixes) + ")", "before": chars,
           "window": chars * SNIPPET_WINDOW,
           "kinds": [k for (k, _), _ in scored], "ids": [i for (_, i), _ in scored]}).mappings().all()
    by_key = {(r["kind"], r["doc_id"]): r for r in rows}
    hits = []
    for key, score in scored:
        r = by_key.get(key)
        if r is None:
            continue
        hits.append(Hit(url=r["url"], title=r["title"], kind=r["kind"],
                        snippet=_snippet(r["headline"], r["summary"], r["excerpt"], chars), score=float(score),
                        id=int(r["doc_id"]), category=r["category"], category_name=r["category_name"],
                        tags=[t for t in (r["tags"] or "").split(",") if t], facets=dict(r["facets"] or {}),
                        badges=list(r["badges"] or []), updated=r["updated"], summary=r["summary"]))
    return hits


def _snippet(headline: str | None, summary: str, excerpt: str, chars: int) -> Markup:
    """The headline escaped with its marks turned into <mark>; without a match, the summary or the
    opening of the text."""
    if headline and START in headline:
        # Unescaped and escaped again: a fragment may end inside an entity ("&lt;scr").
        escaped = html.escape(html.unescape(headline), quote=False)
        return Markup(escaped.replace(START, "<mark>").replace(STOP, "</mark>"))
    plain = summary or excerpt or ""
    if len(plain) > chars:
        plain = plain[:chars].rsplit(" ", 1)[0] + " …"
    return Markup(html.escape(plain, quote=False))
