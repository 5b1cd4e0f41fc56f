"""content/: images shipped beside an article's Markdown are imported with it, once, and linked by site URL."""

from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import func, select

from kb.articles.models import Article, Revision
from kb.extensions import db
from kb.uploads.models import StoredFile
from tests.images.conftest import jpeg_with_gps, png_bytes

BODY = "## Console\n\n![The console](images/console.png \"Replication console\")\n\n```\n![not an image](images/x.png)\n```\n"


def _import(runner, content):
    return runner.invoke(args=["import-content", "--dir", str(content.root)])


def test_bundled_image_is_imported_and_linked(app, client, runner, content):
    (content.root / "articles" / "images").mkdir()
    (content.root / "articles" / "images" / "console.png").write_bytes(png_bytes())
    content.article("console.md", slug="read-the-console", body=BODY)
    result = _import(runner, content)
    assert result.exit_code == 0, result.output
    article = db.session.scalar(select(Article))
    match = re.search(r'!\[The console\]\((/files/\d+/console\.png) "Replication console"\)', article.body)
    assert match, article.body
    assert "![not an image](images/x.png)" in article.body  # code examples stay as written
    assert f'src="{match.group(1)}"' in client.get("/articles/read-the-console").get_data(as_text=True)
    assert client.get(match.group(1)).headers["Content-Type"] == "image/png"


def test_importing_again_stores_the_image_once_and_changes_nothing(app, runner, content):
    (content.root / "articles" / "shot.jpg").write_bytes(jpeg_with_gps())
    content.article("a.md", slug="first", body="![shot](shot.jpg)\n")
    content.article("b.md", slug="second", body="Same picture: ![again](./shot.jpg)\n")
    assert _import(runner, content).exit_code == 0
    result = _import(runner, content)
    assert "0 created, 0 updated, 2 unchanged" in result.output
    assert db.session.scalar(select(func.count(StoredFile.id))) == 1
    assert db.session.scalar(select(func.count(Revision.id))) == 2
    stored = db.session.scalar(select(StoredFile))
    assert stored.owner_kind == "image" and stored.content_type == "image/jpeg"


def test_imported_images_lose_their_metadata(app, client, runner, content):
    (content.root / "articles" / "shot.jpg").write_bytes(jpeg_with_gps())
    content.article("a.md", body="![shot](shot.jpg)\n")
    assert _import(runner, content).exit_code == 0
    url = re.search(r"/files/\d+/shot\.jpg", db.session.scalar(select(Article)).body).group(0)
    image = Image.open(io.BytesIO(client.get(url).data))
    assert dict(image.getexif()) == {}


def test_missing_outside_or_broken_images_are_reported_and_the_rest_imports(app, runner, content, tmp_path):
    (tmp_path / "secret.png").write_bytes(png_bytes())
    (content.root / "articles" / "broken.png").write_bytes(b"not a png at all")
    content.article("missing.md", slug="missing", body="![x](images/nowhere.png)\n")
    content.article("outside.md", slug="outside", body="![x](../../secret.png)\n")
    content.article("broken.md", slug="broken", body="![x](broken.png)\n")
    content.article("good.md", slug="good", body="![remote](https://images.example/a.png) stays as it is\n")
    result = _import(runner, content)
    assert result.exit_code == 1
    assert "missing.md: the image “images/nowhere.png” does not exist" in result.output
    assert "outside.md: the image “../../secret.png” is outside the content folder" in result.output
    assert "broken.md: the image “broken.png”: The file is not a PNG, JPEG, GIF or WebP image" in result.output
    assert [a.slug for a in db.session.scalars(select(Article))] == ["good"]
    assert db.session.scalar(select(func.count(StoredFile.id))) == 0



def test_bundled_article_shows_its_screenshot(app, client, runner):
    from kb.hooks import init_steps

    assert "0 errors" in dict(init_steps(app))["Importing bundled content"]()
    db.session.commit()
    page = client.get("/articles/pair-protected-and-recovery-sites").get_data(as_text=True)
    src = re.search(r'<img alt="The Pair a site dialog[^"]*" src="(/files/\d+/pair-a-site-dialog\.png)"', page)
    assert src, "the screenshot is missing from the article"
    image = client.get(src.group(1))
    assert image.status_code == 200 and Image.open(io.BytesIO(image.data)).size == (720, 400)
