"""Images shipped beside the Markdown in content/: ``![alt](images/foo.png)`` imported with the article.

The link is rewritten to the stored image's site address. The same bytes are stored once: a second
import finds the image by its SHA-256, so the body (and the article) stays unchanged.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app

from kb.extensions import db
from kb.images import service
from kb.images.reencode import ImageRefused

# ![alt](src) or ![alt](src "title"); src without spaces or parentheses, as written in content files.
_IMAGE = re.compile(r'!\[(?P<alt>[^\]\n]*)\]\((?P<src>[^()\s]+)(?P<title>\s+"[^"\n]*")?\)')
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def _local(src: str) -> bool:
    """A path relative to the article file: no scheme, host, absolute path or anchor."""
    parts = urlsplit(src)
    return not parts.scheme and not parts.netloc and not src.startswith(("/", "#", "\\"))


def _import(src: str, article_path: Path, content_dir: Path) -> str:
    """The site address of the image at ``src`` (relative to the article), imported if new."""
    root = content_dir.resolve()
    path = (article_path.parent / unquote(urlsplit(src).path)).resolve()
    if not path.is_relative_to(root):
        raise ImageRefused(f"the image “{src}” is outside the content folder")
    if not path.is_file():
        raise ImageRefused(f"the image “{src}” does not exist (looked for {path})")
    with path.open("rb") as stream:
        try:
            data = service.read_limited(stream, int(current_app.config["IMAGE_MAX_BYTES"]))
            clean = service.clean_image(data)
        except ImageRefused as exc:
            raise ImageRefused(f"the image “{src}”: {exc.message}") from None
    stored = service.existing_content_image(hashlib.sha256(clean.data).hexdigest())
    if stored is None:
        stored = service.store_clean(clean, path.name, uploader=None)
        db.session.flush()
    return service.image_url(stored)


def import_images(body: str, article_path: Path, content_dir: Path) -> str:
    """``body`` with each local image link pointing at the imported image; ImageRefused names a bad one.

    Links inside fenced code blocks are examples, not images, and stay as written.
    """
    addresses: dict[str, str] = {}

    def replace(match: re.Match) -> str:
        src = match.group("src")
        if not _local(src):
            return match.group(0)
        if src not in addresses:
            addresses[src] = _import(src, article_path, content_dir)
        return f"![{match.group('alt')}]({addresses[src]}{match.group('title') or ''})"

    lines, fenced = [], None
    for line in body.split("\n"):
        fence = _FENCE.match(line)
        if fence and (fenced is None or fence.group(1) == fenced):
            fenced = fence.group(1) if fenced is None else None
        elif fenced is None and "![" in line:
            line = _IMAGE.sub(replace, line)
        lines.append(line)
    return "\n".join(lines)
