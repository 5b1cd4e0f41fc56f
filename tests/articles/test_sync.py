"""content/ import and export: idempotent, conflicts reported, broken files reported, round trip stable."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb import ROOT
from kb.articles import editing, sync
from kb.articles.models import Article, ArticleStatus, Category, Revision
from kb.extensions import db
from tests.articles.conftest import article_text


def run(app, folder) -> sync.SyncReport:
    report = sync.import_content(folder, app.config)
    db.session.commit()
    return report


def revisions(article) -> int:
    return db.session.scalar(select(func.count(Revision.id)).where(Revision.article_id == article.id))


def test_import_creates_articles_and_categories(app, content):
    content.article("ports.md", slug="open-ports")
    content.article("upgrade.md", title="Upgrade in order", category="upgrades", type="best-practice",
                    status="draft", tags="[upgrades]")
    report = run(app, content.root)
    assert report.summary() == "2 created, 0 updated, 0 unchanged, 0 conflicts, 0 errors"
    assert report.categories_created == 2
    article = db.session.scalar(select(Article).where(Article.slug == "open-ports"))
    assert article.title == "Open the replication ports"
    assert article.category.slug == "networking"
    assert article.tags == ["firewall", "ports"]
    assert article.versions == ["7.3", "8.0"]
    assert article.status is ArticleStatus.PUBLISHED and article.published_at is not None
    assert '<h2 id="ports">Ports</h2>' in article.html
    assert article.toc_html
    draft = db.session.scalar(select(Article).where(Article.slug == "upgrade"))  # slug from the file name
    assert draft.status is ArticleStatus.DRAFT and draft.type.value == "best-practice"
    assert revisions(article) == 1


def test_import_twice_changes_nothing(app, content):
    content.article("ports.md")
    run(app, content.root)
    before = db.session.scalar(select(Article)).updated_at
    report = run(app, content.root)
    assert report.summary() == "0 created, 0 updated, 1 unchanged, 0 conflicts, 0 errors"
    assert report.categories_created == report.categories_updated == 0
    article = db.session.scalar(select(Article))
    assert article.updated_at == before
    assert revisions(article) == 1


def test_changed_file_adds_a_revision(app, content):
    path = content.article("ports.md")
    run(app, content.root)
    path.write_text(article_text(body="## Ports\n\nOpen TCP 9071 and 9072.\n", status="archived"))
    report = run(app, content.root)
    assert report.updated == ["ports"]
    article = db.session.scalar(select(Article))
    assert "9072" in article.html
    assert article.status is ArticleStatus.ARCHIVED
    assert revisions(article) == 2


def test_web_edit_then_changed_file_is_a_conflict_not_an_overwrite(app, content, staff):
    path = content.article("ports.md")
    run(app, content.root)
    article = db.session.scalar(select(Article))
    editing.apply_changes(article, title=article.title, body="Edited on the web.", summary=article.summary,
                          category=article.category, editor=staff)
    db.session.commit()
    # The file did not change: the web edit stays and the file counts as unchanged.
    assert run(app, content.root).unchanged == ["ports"]
    path.write_text(article_text(body="Edited in git."))
    report = run(app, content.root)
    assert len(report.conflicts) == 1
    assert report.conflicts[0][0].endswith("ports.md")
    assert "changed on the web" in report.conflicts[0][1]
    assert db.session.scalar(select(Article)).body == "Edited on the web."


def test_web_created_article_with_same_slug_is_a_conflict(app, content, make_article):
    make_article(title="Ports", slug="ports", body="Written on the web.")
    content.article("ports.md")
    report = run(app, content.root)
    assert len(report.conflicts) == 1 and report.created == []


@pytest.mark.parametrize(
    "text, reason",
    [
        ("---\ntitle: [unclosed\n---\nbody", "not valid YAML at line"),
        ("no front matter at all", "no front matter"),
        ("---\ntype: how-to\n---\nbody", "the title is missing"),
        (article_text(title=None), "the title is missing"),
        (article_text(type="tutorial"), "the type “tutorial” is not one of"),
        (article_text(status="live"), "the status “live” is not one of"),
        (article_text(category="nowhere"), "the category “nowhere” is not in categories.yml"),
        (article_text(slug="Bad Slug"), "the slug “Bad Slug”"),
        (article_text(slug="new"), "the slug “new”"),
        (article_text(tags="{a: b}"), "“tags” must be a list"),
        (article_text(tags="[has space!]"), "may only contain"),
        (article_text(body=""), "no body"),
        ("---\ntitle: T\nauthor: me\n---\nbody", "unknown front-matter field(s): author"),
        ("---\n- a list\n---\nbody", "must be a YAML mapping"),
        (b"---\ntitle: \xff\n---\nbody", "not UTF-8"),
    ],
)
def test_broken_files_are_reported_with_path_and_reason_while_the_rest_import(app, content, text, reason):
    content.article("good.md")
    broken = content.root / "articles" / "broken.md"
    if isinstance(text, bytes):
        broken.write_bytes(text)
    else:
        broken.write_text(text, encoding="utf-8")
    report = run(app, content.root)
    assert report.created == ["good"]
    assert len(report.errors) == 1
    path, message = report.errors[0]
    assert path == str(broken)
    assert reason in message


def test_limits_from_config_apply_to_imported_files(app, content):
    app.config["ARTICLE_TITLE_MAX_LENGTH"] = 10
    content.article("long.md", title="A title that is far too long")
    report = run(app, content.root)
    assert "longer than 10 characters" in report.errors[0][1]


def test_duplicate_slug_in_two_files_is_an_error(app, content):
    content.article("a.md", slug="same")
    content.article("b.md", slug="same")
    report = run(app, content.root)
    assert report.created == ["same"]
    assert "also used by a.md" in report.errors[0][1]


def test_broken_categories_file_is_reported(app, content):
    (content.root / "categories.yml").write_text("- name: [oops\n")
    content.article("free.md", category="")
    report = run(app, content.root)
    assert report.errors[0][0].endswith("categories.yml")
    assert report.created == ["free"]


def test_export_then_import_changes_nothing(app, content, tmp_path, staff, make_article):
    content.article("ports.md")
    content.article("upgrade.md", title="Upgrade in order", category="upgrades", status="draft")
    run(app, content.root)
    # Also a web-made article and a web edit, which the export must carry to the files.
    web = make_article(title="Made on the web", body="Hello **web**", tags=["web"], status="draft",
                       cat=db.session.scalar(select(Category).where(Category.slug == "upgrades")))
    ports = db.session.scalar(select(Article).where(Article.slug == "ports"))
    editing.apply_changes(ports, title="Ports, edited", body="Edited.", summary="S", category=ports.category,
                          tags=["zeta", "alpha"], editor=staff)
    db.session.commit()
    snapshot = {a.slug: (a.updated_at, a.body, a.title, a.tags, revisions(a)) for a in db.session.scalars(select(Article))}

    export_report = sync.export_content(content.root, app.config)
    db.session.commit()
    assert sorted(export_report.written) == ["made-on-the-web", "ports", "upgrade"]
    assert (content.root / "articles" / "made-on-the-web.md").exists()
    assert (content.root / "articles" / "ports.md").read_text().startswith("---\ntitle: Ports, edited\n")

    report = run(app, content.root)
    assert report.summary() == "0 created, 0 updated, 3 unchanged, 0 conflicts, 0 errors"
    after = {a.slug: (a.updated_at, a.body, a.title, a.tags, revisions(a)) for a in db.session.scalars(select(Article))}
    assert after == snapshot
    # Exporting again writes nothing new.
    assert sync.export_content(content.root, app.config).written == []
    assert web.slug in after


def test_exported_folder_imports_into_an_empty_site(app, content, tmp_path, make_article):
    make_article(title="Journal sizing", body="## Size\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", tags=["journal"])
    out = tmp_path / "exported"
    sync.export_content(out, app.config)
    db.session.commit()
    text = (out / "articles" / "journal-sizing.md").read_text()
    parsed = sync.parse_article_file(out / "articles" / "journal-sizing.md", app.config)
    assert parsed.title == "Journal sizing" and parsed.tags == ["journal"] and parsed.category == "networking"
    assert "\nversions: ['8.0']\n" in text
    assert "\ntags: [journal]\n" in text


def test_cli_import_prints_progress_summary_and_errors(app, runner, content):
    content.article("good.md")
    content.write("bad.md", "---\ntitle: ''\n---\nbody")
    result = runner.invoke(args=["import-content", "--dir", str(content.root)])
    assert result.exit_code == 1
    assert "Importing articles" in result.output
    assert "Articles: 1 created, 0 updated, 0 unchanged, 0 conflicts, 1 errors" in result.output
    assert "bad.md: the title is missing" in result.output
    result = runner.invoke(args=["import-content", "--dir", str(content.root)])
    assert "0 created, 0 updated, 1 unchanged" in result.output


def test_cli_export_then_import(app, runner, content, tmp_path):
    content.article("good.md")
    assert runner.invoke(args=["import-content", "--dir", str(content.root)]).exit_code == 0
    out = tmp_path / "out"
    result = runner.invoke(args=["export-content", "--dir", str(out)])
    assert result.exit_code == 0, result.output
    assert "Articles: 1 written, 0 unchanged" in result.output
    result = runner.invoke(args=["import-content", "--dir", str(out)])
    assert result.exit_code == 0
    assert "0 created, 0 updated, 1 unchanged, 0 conflicts, 0 errors" in result.output


def test_init_step_imports_the_content_dir(app, content):
    from kb.hooks import init_steps

    content.article("good.md")
    app.config["CONTENT_DIR"] = str(content.root)
    steps = dict(init_steps(app))
    summary = steps["Importing bundled content"]()
    assert "1 created" in summary and "0 errors" in summary


def test_init_step_refreshes_html_from_an_older_pipeline(app, content, make_article):
    from kb.hooks import init_steps

    article = make_article(body="```\ncode\n```")
    db.session.execute(Article.__table__.update().values(html="<p>old</p>", render_version=1))
    db.session.commit()
    app.config["CONTENT_DIR"] = str(content.root)
    summary = dict(init_steps(app))["Importing bundled content"]()
    assert "1 re-rendered" in summary
    db.session.refresh(article)
    assert '<pre tabindex="0">' in article.html
    assert "re-rendered" not in dict(init_steps(app))["Importing bundled content"]()


def test_bundled_content_imports_without_errors_and_every_article_has_contents(app, client):
    report = run(app, Path(ROOT / "content"))
    assert report.errors == [], report.errors
    assert report.conflicts == []
    published = list(db.session.scalars(select(Article).where(Article.status == ArticleStatus.PUBLISHED)))
    assert len(published) >= 30
    assert len(db.session.scalars(select(Category)).all()) >= 5
    for article in published:
        assert article.toc_html, f"{article.slug} has no table of contents"
        response = client.get(f"/articles/{article.slug}")
        assert response.status_code == 200, article.slug
        assert 'aria-labelledby="toc-heading"' in response.get_data(as_text=True)
    assert run(app, Path(ROOT / "content")).summary().startswith("0 created, 0 updated")


def test_bundled_content_survives_an_export_and_import_round_trip(app, tmp_path):
    run(app, Path(ROOT / "content"))
    before = {a.slug: (a.title, a.body, a.summary, a.tags, a.versions, a.type, a.status, a.category_id, a.html)
              for a in db.session.scalars(select(Article))}
    out = tmp_path / "exported"
    assert len(sync.export_content(out, app.config).written) == len(before)
    db.session.commit()
    report = run(app, out)
    assert report.summary() == f"0 created, 0 updated, {len(before)} unchanged, 0 conflicts, 0 errors"
    for path in sorted((out / "articles").glob("*.md")):
        parsed = sync.parse_article_file(path, app.config)
        title, body, summary, tags, versions, *_ = before[parsed.slug]
        assert (parsed.title, parsed.body, parsed.summary, parsed.tags, parsed.versions) == (
            title, body, summary, tags, versions), path.name
