"""The one Markdown -> safe HTML pipeline: Python-Markdown first, then nh3 on the final HTML.

Sanitizing the *output* (not the source) is what stops ``[x](javascript:...)``: the link only
exists once Markdown has run. Two allowlists: staff articles (tables, images, heading and
footnote ids, admonitions) and community posts (no ids, images only from trusted hosts, every
link marked ``nofollow ugc``). Both allow only http, https and mailto URLs, per-tag attributes
(never ``*``), and no style, script, event handlers, iframes, objects, embeds, forms, SVG or MathML.
nh3 (Rust's ammonia) replaces bleach, which its maintainers ended in 2026 with no further fixes.

Python-Markdown spends quadratic time (or recursion) on some shapes of input: a run of unclosed
``[``, deep quote and list nesting, thousands of rule or heading lines in one paragraph. Before
rendering, ``structure_problem`` estimates that work in one linear pass; forms show its message,
and the render functions fall back to escaped plain text, so no text makes a request take seconds.
"""

from __future__ import annotations

import bisect
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
from wtforms.validators import ValidationError

log = logging.getLogger(__name__)

# Raise whenever the same Markdown would render differently, so stored HTML can be refreshed.
RENDER_VERSION = 2
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
}
STAFF_TAGS = _COMMON_TAGS | {
    "h2", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "dl", "dt", "dd", "figure", "figcaption",
}
COMMUNITY_TAGS = set(_COMMON_TAGS)

STAFF_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "th": {"align", "scope", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "li": {"id"},  # footnotes
    "sup": {"id"},  # footnote references
}
COMMUNITY_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}

STAFF_CLASSES: dict[str, set[str]] = {
    "div": {"highlight", "footnote"} | _ADMONITION_CLASSES,
    "p": {"admonition-title"},
    "span": _CODE_SPAN_CLASSES,
    "a": {"footnote-ref", "footnote-backref"},
}
COMMUNITY_CLASSES: dict[str, set[str]] = {
    "div": {"highlight"},
    "span": _CODE_SPAN_CLASSES,
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
    extensions = ["fenced_code", "codehilite", "pymdownx.magiclink", "sane_lists", _HeadingFloorExtension(2 if staff else 3)]
    if staff:
        extensions += ["tables", "footnotes", "toc", "admonition"]
    configs = {
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


def _keyboard_scrollable(html: str) -> str:
    """Code blocks and tables may scroll sideways on a phone; keyboard users must be able to focus them.

    Runs on the sanitizer's output, which writes these tags without attributes, and adds only fixed text.
    """
    return html.replace("<pre>", '<pre tabindex="0">').replace("<table>", '<table tabindex="0">')


@dataclass(frozen=True)
class MarkupLimits:
    """How much structure one text may have; each field is the setting ``MARKUP_MAX_<FIELD>``."""

    nesting: int = 16  # quote and list levels on one line
    link_work: int = 150_000  # characters scanned for the ends of "[...]" and "](...)", whole text
    tag_work: int = 300_000  # characters the HTML parser scans for the ">" of each "<tag"
    block_lines: int = 2_000  # heading, rule and list lines (each costs a fixed time)
    block_work: int = 2_000_000  # heading, rule and list lines times their paragraph's length, summed
    inline_marks: int = 4_000  # * _ < ` \ characters in one paragraph
    code_fences: int = 200  # ``` and ~~~ lines
    headings: int = 200
    table_rows: int = 1_000  # lines with a "|" (the tables extension takes a fixed time per row)
    link_references: int = 500  # "[name]: url" and "[^note]:" definitions

    @classmethod
    def from_config(cls, config) -> MarkupLimits:
        return cls(**{name: int(config[f"MARKUP_MAX_{name.upper()}"]) for name in cls.__dataclass_fields__})


def _limits() -> MarkupLimits:
    return MarkupLimits.from_config(current_app.config) if has_app_context() else MarkupLimits()


_FENCE = re.compile(r"(`{3,}|~{3,})")
_CONTAINER = re.compile(r"[ \t]*(?:>|[-*+][ \t]|\d{1,9}[.)][ \t])")
_SPLITTING_LINE = re.compile(r"[ \t]*(?:[-*_=#+]|\d{1,9}[.)])")
_HEADING_LINE = re.compile(r" {0,3}(?:#{1,6}(?:[ \t]|$)|[=-]+[ \t]*$)")
_REFERENCE_LINE = re.compile(r" {0,3}\[[^\]]{1,200}\]:")
_INLINE_MARKS = re.compile(r"[*_<`\\]")
_FENCE_OPENER = re.compile(r"(`{3,}|~{3,})[ ]*(?:\{[^\n]*\}|\.?[\w#.+-]*)?[ ]*$")


def _code_lines(lines: list[str]) -> set[int]:
    """Lines inside fenced code blocks exactly as the fenced_code extension pairs them (not parsed as Markdown)."""
    inside: set[int] = set()
    opened: tuple[int, str] | None = None
    for index, line in enumerate(lines):
        if opened is None:
            if match := _FENCE_OPENER.match(line):
                opened = (index, match.group(1))
        elif line.rstrip(" ") == opened[1]:
            inside.update(range(opened[0], index + 1))
            opened = None
    return inside


def _nesting(line: str) -> int:
    """Quote and list levels a line opens; indentation before a marker adds a level per 4 columns."""
    depth, position = 0, 0
    while match := _CONTAINER.match(line, position):
        marker = match.group(0)
        depth += 1 + len(marker[: len(marker) - len(marker.lstrip(" \t"))].expandtabs(4)) // 4
        position = match.end()
    return depth


def _link_work(block: str) -> int:
    """Characters Python-Markdown scans looking for each "[" and "](" end (to the block's end when unclosed)."""
    work, brackets, parens = 0, [], []
    escaped = False
    for index, char in enumerate(block):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            brackets.append(index)
        elif char == "]" and brackets:
            work += index - brackets.pop()
        elif char == "(":
            parens.append((index, index > 0 and block[index - 1] == "]"))
        elif char == ")" and parens:
            start, link = parens.pop()
            work += index - start if link else 0
    end = len(block)
    work += sum(end - start for start in brackets) + sum(end - start for start, link in parens if link)
    return work


_TAG_START = re.compile(r"<[A-Za-z/!?]")


def _tag_work(text: str) -> int:
    """Characters the HTML parser scans from each "<tag" to the next ">" (to the end when there is none)."""
    closes = [m.start() for m in re.finditer(">", text)]
    work = 0
    for match in _TAG_START.finditer(text):
        following = bisect.bisect_left(closes, match.start())
        work += (closes[following] if following < len(closes) else len(text)) - match.start()
    return work


_CODE_HINT = "or put the text in a code block (a line of ``` before and after it)."


def _paragraphs(lines: list[str], code: set[int]) -> list[str]:
    """The text's blocks as Python-Markdown splits them (at blank lines), code blocks left out."""
    found, block = [], []
    for index, line in enumerate([*lines, ""]):
        if index in code or not line.strip():
            if block:
                found.append("\n".join(block))
            block = []
        else:
            block.append(line)
    return found


def _split_work(paragraph: str) -> tuple[int, int]:
    """Heading, rule and list lines in a paragraph, and the re-scanning they cause (each one re-reads the rest)."""
    splits = sum(1 for line in paragraph.split("\n") if _SPLITTING_LINE.match(line))
    return splits, splits * len(paragraph)


def structure_problem(text: str, limits: MarkupLimits | None = None) -> str | None:
    """Why ``text`` has too much structure to render quickly (a message for the writer), or None."""
    limits = limits or _limits()
    lines = (text or "").split("\n")
    code = _code_lines(lines)
    prose = [(index + 1, line) for index, line in enumerate(lines) if index not in code]
    fences = sum(1 for line in lines if _FENCE.match(line))
    if fences > limits.code_fences:
        return (f"The text has {fences:,} code fence lines (``` or ~~~); the limit is {limits.code_fences:,}. "
                "Join neighbouring code blocks into one.")
    for number, line in prose:
        if (depth := _nesting(line)) > limits.nesting:
            return (f"Line {number} nests quotes or lists {depth:,} levels deep; the limit is {limits.nesting}. "
                    f"Flatten it, {_CODE_HINT}")
    headings = sum(1 for _, line in prose if _HEADING_LINE.match(line))
    if headings > limits.headings:
        return f"The text has {headings:,} headings; the limit is {limits.headings:,}. Split it into several pages."
    rows = sum(1 for _, line in prose if "|" in line)
    if rows > limits.table_rows:
        return f"The text has {rows:,} table rows (lines with “|”); the limit is {limits.table_rows:,}. Split the table, {_CODE_HINT}"
    references = sum(1 for _, line in prose if _REFERENCE_LINE.match(line))
    if references > limits.link_references:
        return (f"The text defines {references:,} link references; the limit is {limits.link_references:,}. "
                "Write the links inline instead.")
    if _tag_work("\n".join(line for _, line in prose)) > limits.tag_work:
        return ("The text has too many “<” that look like the start of an HTML tag but are never closed with “>”. "
                f"Write &lt; for a literal “<”, {_CODE_HINT}")
    paragraphs = _paragraphs(lines, code)
    for paragraph in paragraphs:
        if (marks := len(_INLINE_MARKS.findall(paragraph))) > limits.inline_marks:
            return (f"A paragraph has {marks:,} formatting characters (* _ < ` \\); the limit is {limits.inline_marks:,}. "
                    f"Add blank lines between its parts, {_CODE_HINT}")
    lines_and_work = [_split_work(p) for p in paragraphs]
    if (count := sum(n for n, _ in lines_and_work)) > limits.block_lines:
        return f"The text has {count:,} heading, rule and list lines; the limit is {limits.block_lines:,}. Split it into several posts."
    if sum(work for _, work in lines_and_work) > limits.block_work:
        return f"The text has too many heading, rule or list lines without blank lines between them. Add blank lines, {_CODE_HINT}"
    if sum(_link_work(p) for p in paragraphs) > limits.link_work:
        return ("The text has too many unclosed “[” or “](” (or links inside links) to format. "
                f"Close them, write \\[ for a literal bracket, {_CODE_HINT}")
    return None


def check_field(form, field) -> None:
    """WTForms validator for Markdown fields: the structure check's message, shown on the field."""
    problem = structure_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


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
    body = _keyboard_scrollable(_IMG_WITHOUT_SRC.sub("", _STAFF_CLEANER.clean(raw)))
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
    return _keyboard_scrollable(_IMG_WITHOUT_SRC.sub("", cleaner.clean(raw)))


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
