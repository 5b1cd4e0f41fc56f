"""The Whoosh engine's private-name module: version check, the start-up patch, and public-API
fallbacks that rank exactly like the fast paths."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from flask_login import AnonymousUserMixin

from kb import create_app
from kb.extensions import db
from kb.search import search, suggest
from kb.search.engines.whoosh import internals, postings, query_builder, searchers
from tests.search.notes import Note

ANON = AnonymousUserMixin()
ROOT = Path(__file__).resolve().parents[4]
QUERIES = ["common rare", "journal retention", "throttling", "journal -retention", '"retention needs"',
           "retenton throttlng", "jour*", "common OR plain"]


def _corpus() -> None:
    words = "journal retention needs throttling common plain rare replication"
    db.session.add_all(
        Note(title=f"Note {n} {words.split()[n % 8]}",
             body=f"{'common ' * (n % 5)}{'rare ' if n % 97 == 0 else 'plain '}"
                  f"journal retention needs throttling {words * (n % 7)}",
             headings="Retention\nJournal" if n % 3 == 0 else "")
        for n in range(400))
    db.session.commit()


def _answers(app) -> list:
    searchers.holder_for(Path(app.config["INDEX_DIR"])).cache.clear()
    for kept in (postings._segment_lengths, query_builder._segment_words):  # values read per segment
        kept.entries.clear()
    out = []
    for q in QUERIES:
        found = search(q, ANON, per_page=20)
        out.append((q, found.total, found.did_you_mean,
                    [(hit.title, round(hit.score, 9), str(hit.snippet)) for hit in found.results]))
    out.append(suggest("note 1", ANON, 8))
    return out


@pytest.fixture
def fast_paths_restored():
    yield
    internals.configure(True)


def test_the_public_api_ranks_exactly_like_the_fast_paths(search_app, fast_paths_restored):
    assert internals.COMPATIBLE and internals.fast_paths()  # the pinned version is one that was checked
    _corpus()
    fast = _answers(search_app)
    internals.configure(False)
    assert not internals.fast_paths()
    slow = _answers(search_app)
    assert slow == fast
    assert fast[0][1] > 0 and fast[5][2] == "retention throttling"


def test_a_rebuild_with_the_fast_paths_off_finds_the_same(search_app, runner, fast_paths_restored):
    _corpus()
    fast = _answers(search_app)
    internals.configure(False)
    assert runner.invoke(args=["reindex"]).exit_code == 0
    assert [(q, total, [t for t, _, _ in hits]) for q, total, _, hits in _answers(search_app)[:-1]] == \
        [(q, total, [t for t, _, _ in hits]) for q, total, _, hits in fast[:-1]]


def test_the_column_patch_is_applied_at_start_up_not_at_import(tmp_path):
    code = ("import kb.search, kb.search.engines.whoosh as e\n"
            "from kb.search.engines.whoosh import internals\n"
            "assert not internals.patched(), 'patched at import'\n"
            "from kb import create_app\n"
            f"create_app({{'ENV': 'testing', 'SECRET_KEY': 't', 'DATABASE_URL': 'sqlite:///{tmp_path}/db', "
            f"'INDEX_DIR': '{tmp_path}/ix'}})\n"
            "assert internals.patched(), 'not patched by init_app'\n")
    result = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]


def test_an_unchecked_whoosh_version_falls_back_to_the_public_api(monkeypatch):
    monkeypatch.setattr(internals, "INSTALLED", (2, 8, 0))
    assert internals._compatible() is False


def test_nothing_outside_the_whoosh_engine_imports_whoosh():
    allowed = ROOT / "kb" / "search" / "engines" / "whoosh"
    offenders = []
    for path in (ROOT / "kb").rglob("*.py"):
        if allowed in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "whoosh" or n.startswith("whoosh.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_an_unknown_engine_is_a_clear_start_up_error(tmp_path):
    with pytest.raises(RuntimeError, match="KB_SEARCH_ENGINE='elastic' is not a search engine"):
        create_app({"ENV": "testing", "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{tmp_path}/db", "INDEX_DIR": str(tmp_path / "ix"),
                    "SEARCH_ENGINE": "elastic"})
