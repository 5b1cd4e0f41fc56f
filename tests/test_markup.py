"""The Markdown pipeline: what it renders, and that hostile input never comes out executable."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.markup import (
    MarkupLimits,
    render_article,
    render_post,
    structure_problem,
    to_plain_text,
)

FORBIDDEN_TAGS = {"script", "style", "iframe", "object", "embed", "form", "svg", "math", "input", "button",
                  "textarea", "select", "link", "meta", "base", "frame", "frameset", "applet", "template"}
ALLOWED_SCHEMES = ("http:", "https:", "mailto:")


class _Audit(HTMLParser):
    """Collects every tag and attribute of a fragment the way a browser's tokenizer sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def audit(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Audit()
    parser.feed(html)
    parser.close()
    return parser.tags


def assert_safe(html: str, community: bool = False) -> None:
    """No executable tag, no handler, no style, no unsafe URL; community output has no ids."""
    assert "<script" not in html.lower()
    for tag, attrs in audit(html):
        if tag == "input":  # a task-list item's checkbox, in exactly this shape, is the one input allowed
            assert attrs in ({"type": "checkbox", "disabled": None}, {"type": "checkbox", "disabled": None, "checked": None}), html
            continue
        assert tag not in FORBIDDEN_TAGS, (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, html)
            assert name != "style", html
            if community:
                assert name != "id", html
            if name in ("href", "src") and value:
                head = re.split(r"[/?#]", value, maxsplit=1)[0]
                if ":" in head:
                    scheme = re.sub(r"[\x00-\x20\x7f]+", "", head).lower()
                    assert scheme.startswith(ALLOWED_SCHEMES), (value, html)


HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"javascript:alert(1)\">",
    "<svg onload=alert(1)><circle/></svg>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
    "<form action=\"https://evil.example\"><input name=a><button>go</button></form>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"&#x6A;&#x61;vascript&colon;alert(1)\">x</a>",
    "<a href=\"java\tscript:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2Zz4=)",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<p onclick=\"alert(1)\" onmouseover=alert(2)>x</p>",
    "<b><i><u onmouseover=alert(1)>nested</u></i></b>",
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">ok</a>",
    "<!-- <script>alert(1)</script> -->",
    "<style>body{display:none}</style>",
    "<link rel=stylesheet href=//evil.example/x.css>",
    "<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\">",
    "<base href=\"https://evil.example/\">",
    "<details open ontoggle=alert(1)>",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "!!! note \"<img src=x onerror=alert(1)>\"\n    body",
    "## <img src=x onerror=alert(1)> heading",
    "## heading {: onclick=alert(1) }",
    "Footnote[^x]\n\n[^x]: <script>alert(1)</script>",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | <a href=javascript:x>y</a> |",
    "https://example.com/\"onmouseover=\"alert(1)",
    "<a href=\"https://a.example\" id=\"main\" name=\"x\">clobber</a>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<textarea><script>alert(1)</script></textarea>",
    "<xmp><script>alert(1)</script></xmp>",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_article_input_is_neutralised(source):
    rendered = render_article(source)
    assert_safe(rendered.html)
    assert_safe(rendered.toc_html)


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_post_input_is_neutralised(source):
    assert_safe(render_post(source, image_hosts=["images.example"]), community=True)


def test_javascript_markdown_link_keeps_text_but_loses_href():
    html = render_post("[click me](javascript:alert(1))")
    assert "click me" in html
    assert "javascript" not in html.lower()


def test_entity_encoded_javascript_is_dropped():
    for source in ("<a href=\"&#106;avascript:alert(1)\">x</a>", "[x](&#x6A;avascript:alert(1))"):
        assert "avascript" not in render_article(source).html.lower()


def test_article_features_render():
    text = (
        "## Install\n\nSteps:\n\n1. one\n2. two\n\n### Check\n\n"
        "| Port | Use |\n|---:|:---|\n| 443 | console |\n\n"
        "!!! warning \"Stop replication first\"\n    Or the journal is lost.\n\n"
        "```bash\nhsctl status --all\n```\n\n"
        "See https://example.com/docs and note[^1].\n\n![Diagram](/static/img/d.png)\n\n[^1]: A footnote.\n"
    )
    rendered = render_article(text)
    html = rendered.html
    assert '<h2 id="install">Install</h2>' in html
    assert '<h3 id="check">Check</h3>' in html
    assert '<th align="right">Port</th>' in html
    assert '<div class="admonition warning">' in html
    assert '<p class="admonition-title">Stop replication first</p>' in html
    assert '<div class="highlight">' in html
    assert 'href="https://example.com/docs"' in html
    assert 'id="fn:1"' in html and 'class="footnote-ref"' in html
    assert 'alt="Diagram"' in html and 'src="/static/img/d.png"' in html
    assert rendered.headings == [(2, "install", "Install"), (3, "check", "Check")]
    assert rendered.toc_html == '<ol><li><a href="#install">Install</a><ol><li><a href="#check">Check</a></li></ol></li></ol>'
    assert "hsctl status --all" in rendered.plain_text
    assert "<" not in rendered.plain_text


def test_code_highlighting_uses_pygments_classes():
    html = render_article("```python\ndef f():\n    return 1\n```").html
    assert '<span class="k">def</span>' in html
    assert "style=" not in html


def test_h1_in_body_becomes_h2_and_toc_empty_without_headings():
    rendered = render_article("# Title in body\n\ntext")
    assert rendered.html.startswith("<h2")
    assert render_article("just text").toc_html == ""
    assert render_article("just text").headings == []


def test_heading_ids_never_shadow_page_landmarks():
    html = render_article("## main\n\n## main").html
    assert 'id="main"' not in html
    assert 'id="main-section"' in html


def test_duplicate_headings_get_unique_anchors():
    rendered = render_article("## Logs\n\n## Logs")
    anchors = [anchor for _, anchor, _ in rendered.headings]
    assert len(set(anchors)) == 2


def test_staff_html_drops_unknown_classes_and_ids():
    html = render_article('<div class="admonition note evil" id="x y">t</div><span class="k foo">k</span>').html
    assert 'class="admonition note"' in html
    assert "evil" not in html and "foo" not in html
    assert 'id="x y"' not in html


def test_post_links_are_nofollow_ugc():
    html = render_post("[a](https://a.example) and https://b.example/x and <a href=\"/articles/x\">c</a>")
    assert html.count('rel="nofollow noopener noreferrer ugc"') == 3


def test_post_has_no_ids_or_admonition_classes_but_tables_as_in_articles():
    html = render_post("## Head\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n!!! note\n    x\n\nx[^1]\n\n[^1]: y")
    assert "id=" not in html
    assert '<table tabindex="0">' in html
    assert "admonition" not in html
    assert "<h3>Head</h3>" in html  # headings pushed below the thread's own h1/h2


def test_post_images_only_from_site_or_allowed_hosts():
    html = render_post(
        "![a](https://images.example/a.png) ![b](/static/b.png) ![c](https://evil.example/c.png) "
        "![d](http://images.example/d.png) ![e](//images.example/e.png) ![f](data:image/png;base64,AAAA)",
        image_hosts=["images.example"],
    )
    assert 'src="https://images.example/a.png"' in html
    assert 'src="/static/b.png"' in html
    for bad in ("evil.example", "http://images.example", "//images.example/e.png", "data:"):
        assert bad not in html
    assert html.count("<img") == 2


def test_post_code_highlighting_kept():
    html = render_post("```python\nimport os\n```")
    assert '<div class="highlight">' in html and '<span class="kn">import</span>' in html


def test_to_plain_text_separates_blocks_and_unescapes():
    assert to_plain_text("<h2>A &amp; B</h2><p>one</p><p>two <b>three</b></p>") == "A & B one two three"
    assert to_plain_text("<script>alert(1)</script>ok") == "ok"
    assert to_plain_text("") == ""


def test_none_and_empty_input():
    assert render_article("").html == ""
    assert render_post("") == ""


_fragments = st.sampled_from([
    "<", ">", "\"", "'", "=", "&", "#", ";", ":", "/", "(", ")", "[", "]", "!", "`", "*", "\n", " ",
    "<script>", "</script>", "<img", " src=", " onerror=", "onload", "javascript:", "jav&#x61;script:",
    "data:", "vbscript:", "<a href=", "<svg", "<iframe", "<style>", "style=", "[x](", "![i](", "```",
    "!!! note", "## ", "| a |", "[^1]", "&#106;", "<!--", "-->", "<math", "alert(1)", "https://e.example/",
])
_hostile_text = st.one_of(st.text(max_size=200), st.lists(_fragments, max_size=40).map("".join))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_hostile_text)
def test_property_render_never_raises_or_emits_script_or_handlers(text):
    rendered = render_article(text)
    assert_safe(rendered.html)
    assert_safe(rendered.toc_html)
    assert_safe(render_post(text, image_hosts=["e.example"]), community=True)
    to_plain_text(rendered.html)


def test_scrollable_code_and_tables_are_keyboard_focusable():
    html = render_article("| a |\n|---|\n| 1 |\n\n```\nlong line\n```").html
    assert '<table tabindex="0">' in html and '<pre tabindex="0">' in html
    assert '<pre tabindex="0">' in render_post("```\ncode\n```")
    assert 'tabindex="5"' not in render_article('<pre tabindex="5">x</pre>').html


# --- Bounded work: pathological structure is refused before Python-Markdown sees it -----------

PATHOLOGICAL = {
    "19,999 brackets (finding 2)": "[" * 19_999,
    "8,000 brackets (finding 2)": "[" * 8_000,
    "20,000 brackets": "[" * 20_000,
    "unclosed link targets": "[a](" * 5_000,
    "images": "![" * 5_000,
    "footnote openers": "[^" * 10_000,
    "quotes 20,000 deep": ">" * 20_000,
    "lists 300 deep": "".join("    " * depth + "- a\n" for depth in range(300)),
    "quote inside list inside quote": "> - " * 2_000 + "a",
    "emphasis": "*_" * 10_000,
    "rule lines in one paragraph": "***\n" * 5_000,
    "setext headings in one paragraph": "a\n=\n" * 5_000,
    "empty code blocks": "```\n" * 5_000,
    "unclosed tags": "<http://a" * 2_000,
    "link reference table": "".join(f"[r{n}]: http://x.example/{n}\n" for n in range(1_000)),
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
@pytest.mark.parametrize("render", [render_post, render_article], ids=["post", "article"])
def test_pathological_markdown_is_refused_and_rendered_quickly(text, render):
    assert structure_problem(text)
    started = time.perf_counter()
    result = render(text)
    assert time.perf_counter() - started < 0.5
    html = result if isinstance(result, str) else result.html
    assert html.startswith("<p>") and "<script" not in html  # escaped plain text, still safe


def test_the_reason_is_a_sentence_a_writer_can_act_on():
    assert "unclosed “[”" in structure_problem("[" * 19_999)
    assert "16" in structure_problem(">" * 100)
    assert "link references" in structure_problem(PATHOLOGICAL["link reference table"])


@pytest.mark.parametrize("text", [
    "See [the guide](https://example.com/guide) and [another](/articles/x).\n\n" * 200,
    "- item\n" * 150,
    "> quoted\n> > twice\n> > > thrice\n",
    "```\n" + "[" * 20_000 + "\n```\n",  # brackets inside a code block are only code
    "Array a[i] and b[j] in **bold** and _italic_ text. " * 300,
    "# Heading\n\nText.\n\n" * 100,
    ("- a short list item\n" * 20 + "\n") * 100,  # many small lists are not pathological
])
def test_ordinary_markdown_passes_the_check(text):
    assert structure_problem(text) is None
    assert "<p>" in render_post(text) or "<li>" in render_post(text) or "<pre" in render_post(text)


def test_an_unclosed_fence_does_not_hide_text_from_the_check():
    assert structure_problem("```\n" + "[" * 20_000)


def test_limits_are_settings(app):
    assert MarkupLimits.from_config(app.config) == MarkupLimits()  # kb/config.py and the defaults agree
    assert structure_problem("> > > a") is None
    app.config["MARKUP_MAX_NESTING"] = 2
    assert "the limit is 2" in structure_problem("> > > a")
    assert MarkupLimits.from_config(app.config).nesting == 2
