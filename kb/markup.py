"""The one Markdown -> safe HTML pipeline: Python-Markdown first, then nh3 on the final HTML.

Sanitizing the *output* (not the source) is what stops ``[x](javascript:...)``: the link only
exists once Markdown has run. Two allowlists: staff articles (tables, images, heading and
footnote ids, admonitions) and community posts (no ids, images only from trusted hosts, every
link marked ``nofollow ugc``). Both allow only http, https and mailto URLs, per-tag attributes
(never ``*``), and no style, script, event handlers, iframes, objects, embeds, forms, SVG or MathML.
nh3 (Rust's ammonia) replaces bleach, which its maintainers ended in 2026 with no further fixes.

Before rendering, ``kb.markup_limits.structure_problem`` estimates the parser's work in one linear
pass; a text with too much structure is rendered as escaped plain text, so no text makes a request
take seconds. ``kb.markup_paste`` reads Markdown the way people paste it from GitHub or Discourse.
"""

from __future__ import annotations

import html as html_lib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import markdown
import nh3
from flask import current_app, has_app_context
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from pygments.token import STANDARD_TYPES

from kb.markup_limits import MarkupLimits, check_field, structure_problem  # noqa: F401  (re-exported)
from kb.markup_paste import PasteExtension

log = logging.getLogger(__name__)

# Raise whenever the same Markdown would render differently, so stored HTML can be refreshed.
RENDER_VERSION = 3  # 3: lists and tables right under text, two-space nesting, ~~strike~~, task lists
URL_SCHEMES = {"http", "https", "mailto"}
STAFF_LINK_REL = "noopener noreferrer"
COMMUNITY_LINK_REL = "nofollow noopener noreferrer ugc"

# Pygments' short token classes (k, nb, c1, ...) are all a highlighted code block needs.
_TOKEN_CLASSES = {cls for cls in STANDARD_TYPES.values() if cls}
_CODE_SPAN_CLASSES = _TOKEN_CLASSES | {"hll"}
_ADMONITION_CLASSES = {"admonition", "note", "tip", "warning", "danger", "important", "caution", "info", "hint"}

_COMMON_TAGS = {
    "p", "br", "hr", "strong", "b", "em", "i", "del", "s", "sub", "sup", "code", "kbd", "pre",
    "blockquote", "ul", "ol", "li", "a", "span", "div", "h3", "h4", "h5", "h6", "img", "abbr",
    "table", "thead", "tbody", "tr", "th", "td",
    "input",  # task-list checkboxes only: _task_checkboxes rewrites every one to a disabled checkbox
}
STAFF_TAGS = _COMMON_TAGS | {"h2", "tfoot", "caption", "dl", "dt", "dd", "figure", "figcaption"}
COMMUNITY_TAGS = set(_COMMON_TAGS)
_TASK_ATTRIBUTES = {"type", "checked", "disabled"}

STAFF_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "th": {"align", "scope", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "input": _TASK_ATTRIBUTES,
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "li": {"id"},  # footnotes
    "sup": {"id"},  # footnote references
}
COMMUNITY_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
    "input": _TASK_ATTRIBUTES,
}

STAFF_CLASSES: dict[str, set[str]] = {
    "div": {"highlight", "footnote"} | _ADMONITION_CLASSES,
    "p": {"admonition-title"},
    "span": _CODE_SPAN_CLASSES,
    "a": {"footnote-ref", "footnote-backref"},
    "ul": {"task-list"},
    "li": {"task-list-item"},
}
COMMUNITY_CLASSES: dict[str, set[str]] = {
    "div": {"highlight"},
    "span": _CODE_SPAN_CLASSES,
    "ul": {"task-list"},
    "li": {"task-list-item"},
}

# Heading, footnote and footnote-reference ids Markdown generates; anything else is dropped.
_ID_PATTERN = re.compile(r"^(?:[\w-]{1,120}|fn:[\w-]{1,40}|fnref\d*:[\w-]{1,40})$")
# Ids the site's own layout uses; an article heading must never shadow them.
_RESERVED_IDS = {"main", "header-q", "home-q", "content", "toc", "search", "q", "body", "preview"}
_SAFE_DIMENSION = re.compile(r"^\d{1,4}$")


@dataclass
class RenderedArticle:
    """A staff article rendered once on save; every field is safe to store and serve as is."""

    html: str
    toc_html: str
    headings: list[tuple[int, str, str]] = field(default_factory=list)
    plain_text: str = ""


class _HeadingFloor(Treeprocessor):
    """Push headings down so a body never competes with the page's own title (h1)."""

    def __init__(self, md, floor: int):
        super().__init__(md)
        self.floor = floor

    def run(self, root: Element) -> None:
        for element in root.iter():
            if len(element.tag) == 2 and element.tag[0] == "h" and element.tag[1].isdigit():
                level = int(element.tag[1])
                if level < self.floor:
                    element.tag = f"h{self.floor}"


class _HeadingFloorExtension(Extension):
    def __init__(self, floor: int):
        super().__init__()
        self.floor = floor

    def extendMarkdown(self, md) -> None:
        # Above toc (5) and codehilite (30) so anchors are built from the final levels.
        md.treeprocessors.register(_HeadingFloor(md, self.floor), "heading_floor", 35)


def _slugify(value: str, separator: str) -> str:
    from markdown.extensions.toc import slugify_unicode

    slug = slugify_unicode(value, separator)[:80] or "section"
    return f"{slug}-section" if slug in _RESERVED_IDS else slug


def _markdown(staff: bool) -> markdown.Markdown:
    extensions = ["fenced_code", "codehilite", "pymdownx.magiclink", "sane_lists", "tables", "pymdownx.tilde",
                  "pymdownx.tasklist", PasteExtension(), _HeadingFloorExtension(2 if staff else 3)]
    if staff:
        extensions += ["footnotes", "toc", "admonition"]
    configs = {
        # ~~strike~~ as on GitHub; a single ~ stays literal (no subscript), so paths like ~/logs are safe.
        "pymdownx.tilde": {"subscript": False},
        "pymdownx.tasklist": {"custom_checkbox": False, "clickable_checkbox": False},
        "codehilite": {"guess_lang": False, "css_class": "highlight"},
        "pymdownx.magiclink": {"hide_protocol": False, "repo_url_shortener": False},
        "tables": {"use_align_attribute": True},
        "toc": {"slugify": _slugify, "permalink": False},
    }
    return markdown.Markdown(
        extensions=extensions,
        extension_configs={name: value for name, value in configs.items() if name in extensions},
        output_format="html",
    )


_SCHEME_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def url_allowed(value: str) -> bool:
    """A second line behind nh3: any scheme-like prefix, with whitespace and controls removed, must be allowed."""
    head = re.split(r"[/?#]", value, maxsplit=1)[0]
    if ":" not in head:
        return True
    scheme = _SCHEME_NOISE.sub("", head.split(":", 1)[0]).lower()
    return scheme in URL_SCHEMES


def _staff_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src"):
        return value if url_allowed(value) else None
    if attribute == "id":
        return value if _ID_PATTERN.match(value) and value not in _RESERVED_IDS else None
    if attribute in ("width", "height"):
        return value if _SAFE_DIMENSION.match(value) else None
    if attribute == "align":
        return value if value in ("left", "right", "center") else None
    if attribute == "scope":
        return value if value in ("col", "row", "colgroup", "rowgroup") else None
    return value


def _staff_cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=STAFF_TAGS,
        clean_content_tags={"script", "style"},
        attributes=STAFF_ATTRIBUTES,
        attribute_filter=_staff_filter,
        link_rel=STAFF_LINK_REL,
        url_schemes=URL_SCHEMES,
        allowed_classes=STAFF_CLASSES,
        strip_comments=True,
    )


_STAFF_CLEANER = _staff_cleaner()


def _community_filter(image_hosts: frozenset[str], site_url: str):
    def check(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            return value if image_allowed(value, image_hosts) or site_image(value, site_url) else None
        if attribute == "href":
            return value if url_allowed(value) else None
        return value

    return check


def image_allowed(src: str, image_hosts: Iterable[str]) -> bool:
    """Images in community posts come from this site (relative URL) or a configured host, over https."""
    src = src.strip()
    if not src or src.startswith("//") or "\\" in src:
        return False
    parts = urlsplit(src)
    if not parts.scheme and not parts.netloc:
        return src.startswith("/")
    return parts.scheme == "https" and (parts.hostname or "").lower() in {h.lower() for h in image_hosts}


_SITE_FILE_PATH = re.compile(r"/files/\d{1,10}/[\w.-]{1,255}")


def site_image(src: str, site_url: str) -> bool:
    """An image stored on this site, by its absolute address on KB_SITE_URL: ``<KB_SITE_URL>/files/<id>/<name>``.

    (Relative addresses are this site's already, see image_allowed.) Only the file download path
    qualifies, so a post cannot point an image at any other page of the site under its full address.
    """
    site = urlsplit(site_url or "")
    if not site.scheme or not site.hostname:
        return False
    try:
        parts = urlsplit(src.strip())
        same_origin = (parts.scheme == site.scheme and (parts.hostname or "").lower() == site.hostname.lower()
                       and parts.port == site.port)
    except ValueError:  # a port that is not a number
        return False
    prefix = site.path.rstrip("/")
    return (same_origin and not parts.username and not parts.query and not parts.fragment
            and parts.path.startswith(prefix + "/") and bool(_SITE_FILE_PATH.fullmatch(parts.path[len(prefix):])))


_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")


_INPUT = re.compile(r'<input((?:\s+[a-z-]+(?:="[^"]*")?)*)\s*/?>')
_ATTRIBUTE = re.compile(r'([a-z-]+)(?:="([^"]*)")?')


def _task_checkbox(match: re.Match) -> str:
    attributes = dict(_ATTRIBUTE.findall(match.group(1)))
    if attributes.get("type") != "checkbox":
        return ""
    return '<input type="checkbox" disabled checked>' if "checked" in attributes else '<input type="checkbox" disabled>'


def _task_checkboxes(html: str) -> str:
    """Every input the sanitizer let through becomes a disabled checkbox (a task-list item) or goes.

    Runs on the sanitizer's output, which writes attributes lower-case with double-quoted values.
    """
    return _INPUT.sub(_task_checkbox, html) if "<input" in html else html


def _keyboard_scrollable(html: str) -> str:
    """Code blocks and tables may scroll sideways on a phone; keyboard users must be able to focus them.

    Runs on the sanitizer's output, which writes these tags without attributes, and adds only fixed text.
    """
    return html.replace("<pre>", '<pre tabindex="0">').replace("<table>", '<table tabindex="0">')


def _plain_html(text: str) -> str:
    """Escaped paragraphs: the bounded rendering for text that failed the structure check."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    return "".join(f"<p>{html_lib.escape(p)}</p>" for p in paragraphs)


def _refused(text: str, problem: str) -> str:
    log.warning("Rendering %d characters as plain text: %s", len(text or ""), problem)
    return _plain_html(text)


def render_article(text: str) -> RenderedArticle:
    """Render staff Markdown with the wider allowlist, plus its table of contents and plain text."""
    problem = structure_problem(text)
    if problem:
        body = _refused(text, problem)
        return RenderedArticle(html=body, toc_html="", headings=[], plain_text=to_plain_text(body))
    md = _markdown(staff=True)
    raw = md.convert(text or "")
    body = _keyboard_scrollable(_task_checkboxes(_IMG_WITHOUT_SRC.sub("", _STAFF_CLEANER.clean(raw))))
    headings: list[tuple[int, str, str]] = []

    def walk(tokens) -> None:
        for token in tokens:
            headings.append((int(token["level"]), token["id"], html_lib.unescape(token["name"])))
            walk(token.get("children", []))

    walk(getattr(md, "toc_tokens", []))
    # Only headings that survived sanitizing with their id can be linked to.
    headings = [h for h in headings if f'id="{h[1]}"' in body]
    return RenderedArticle(
        html=body, toc_html=_toc_html(headings), headings=headings, plain_text=to_plain_text(body)
    )


def _toc_html(headings: list[tuple[int, str, str]]) -> str:
    """A nested list of links to the h2 and h3 headings; '' when there are none."""
    entries = [(level, anchor, text) for level, anchor, text in headings if level <= 3]
    if not entries:
        return ""
    parts = ["<ol>"]
    open_sub = False
    for index, (level, anchor, text) in enumerate(entries):
        link = f'<a href="#{html_lib.escape(anchor)}">{html_lib.escape(text)}</a>'
        if level == 3 and index > 0:
            if not open_sub:
                parts.append("<ol>")
                open_sub = True
            parts.append(f"<li>{link}</li>")
            continue
        if open_sub:
            parts.append("</ol></li>")
            open_sub = False
        elif index > 0:
            parts.append("</li>")
        parts.append(f"<li>{link}")
    parts.append("</ol></li></ol>" if open_sub else "</li></ol>")
    return nh3.clean("".join(parts), tags={"ol", "li", "a"}, attributes={"a": {"href"}}, url_schemes=URL_SCHEMES, link_rel=None)


def render_post(text: str, image_hosts: Iterable[str] = ()) -> str:
    """Render community Markdown with the narrow allowlist: no ids, trusted images, nofollow links."""
    problem = structure_problem(text)
    if problem:
        return _refused(text, problem)
    raw = _markdown(staff=False).convert(text or "")
    site_url = str(current_app.config.get("SITE_URL") or "") if has_app_context() else ""
    cleaner = _community_cleaner(frozenset(host.lower() for host in image_hosts), site_url)
    return _keyboard_scrollable(_task_checkboxes(_IMG_WITHOUT_SRC.sub("", cleaner.clean(raw))))


@lru_cache(maxsize=16)
def _community_cleaner(image_hosts: frozenset[str], site_url: str = "") -> nh3.Cleaner:
    """One cleaner per set of trusted image hosts and site address (the config rarely changes)."""
    return nh3.Cleaner(
        tags=COMMUNITY_TAGS,
        clean_content_tags={"script", "style"},
        attributes=COMMUNITY_ATTRIBUTES,
        attribute_filter=_community_filter(image_hosts, site_url),
        link_rel=COMMUNITY_LINK_REL,
        url_schemes=URL_SCHEMES,
        allowed_classes=COMMUNITY_CLASSES,
        strip_comments=True,
    )


_BLOCK_BOUNDARY = re.compile(r"</?(?:p|div|li|h[1-6]|tr|td|th|br|hr|pre|blockquote|ol|ul|table|dt|dd|figcaption)\b[^>]*>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def to_plain_text(html: str) -> str:
    """The readable text of an HTML fragment, words kept apart at block boundaries (for search)."""
    spaced = _BLOCK_BOUNDARY.sub(" ", html or "")
    text = nh3.clean(spaced, tags=set(), clean_content_tags={"script", "style"})
    return _SPACE.sub(" ", html_lib.unescape(text)).strip()
