"""Markdown as people paste it from GitHub or Discourse renders as GitHub renders it.

Each case holds the HTML GitHub's renderer (cmark-gfm) gives for the text. The comparison reads
both the way a reader sees them: tags, the attributes that change what is shown (checkbox state,
alignment, list start) and text, ignoring white space, class names and code highlighting spans.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from kb.markup import render_article, render_post

_KEPT_ATTRIBUTES = {"type", "checked", "disabled", "align", "start"}


class _Shape(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("span", "div"):  # highlighting wrappers differ between renderers, not what is read
            return
        kept = tuple(sorted((name, value or "") for name, value in attrs if name in _KEPT_ATTRIBUTES))
        self.tokens.append(("<", tag, kept))

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag not in ("span", "div", "input"):
            self.tokens.append((">", tag))

    def handle_data(self, data):
        if self.tokens and self.tokens[-1][0] == "text":
            self.tokens[-1] = ("text", self.tokens[-1][1] + data)
        else:
            self.tokens.append(("text", data))


def shape(html: str) -> list[tuple]:
    parser = _Shape()
    parser.feed(html)
    parser.close()
    tokens = [("text", " ".join(t[1].split())) if t[0] == "text" else t for t in parser.tokens]
    return [t for t in tokens if t != ("text", "")]


# (name, pasted Markdown, what GitHub renders)
CASES = [
    ("list right under a line", "Steps to reproduce:\n- stop the VPG\n- start it again",
     "<p>Steps to reproduce:</p><ul><li>stop the VPG</li><li>start it again</li></ul>"),
    ("numbered list right under a line", "Do this:\n1. open Settings\n2. choose Sites",
     "<p>Do this:</p><ol><li>open Settings</li><li>choose Sites</li></ol>"),
    ("a number that is not a list", "It happened in\n1986. Since then it works.",
     "<p>It happened in\n1986. Since then it works.</p>"),
    ("nested by two spaces", "- site A\n  - host 1\n    - VM a\n  - host 2\n- site B",
     "<ul><li>site A<ul><li>host 1<ul><li>VM a</li></ul></li><li>host 2</li></ul></li><li>site B</li></ul>"),
    ("nested by four spaces", "- site A\n    - host 1\n- site B",
     "<ul><li>site A<ul><li>host 1</li></ul></li><li>site B</li></ul>"),
    ("numbered nested under its text", "1. Pause\n   - all VPGs\n2. Upgrade",
     "<ol><li>Pause<ul><li>all VPGs</li></ul></li><li>Upgrade</li></ol>"),
    ("numbers with a parenthesis", "1) first\n2) second",
     "<ol><li>first</li><li>second</li></ol>"),
    ("loose list with a second paragraph", "- one\n\n  more about one\n- two",
     "<ul><li><p>one</p><p>more about one</p></li><li><p>two</p></li></ul>"),
    ("strikethrough", "The ~~old~~ new path, and ~/logs stays as typed",
     "<p>The <del>old</del> new path, and ~/logs stays as typed</p>"),
    ("task list", "- [ ] collect logs\n- [x] restart the VRA",
     ('<ul><li><input type="checkbox" disabled=""> collect logs</li>'
     '<li><input type="checkbox" checked="" disabled=""> restart the VRA</li></ul>')),
    ("task list under a line, nested", "Checklist:\n- [x] done\n  - [ ] sub-task",
     ('<p>Checklist:</p><ul><li><input type="checkbox" checked="" disabled=""> done'
     '<ul><li><input type="checkbox" disabled=""> sub-task</li></ul></li></ul>')),
    ("table", "| VPG | RPO |\n|:--|--:|\n| finance | 9 s |",
     ('<table><thead><tr><th align="left">VPG</th><th align="right">RPO</th></tr></thead>'
     '<tbody><tr><td align="left">finance</td><td align="right">9 s</td></tr></tbody></table>')),
    ("table right under a line", "Our sites:\n| site | VMs |\n|---|---|\n| A | 12 |",
     ("<p>Our sites:</p><table><thead><tr><th>site</th><th>VMs</th></tr></thead>"
     "<tbody><tr><td>A</td><td>12</td></tr></tbody></table>")),
    ("fenced code with a language right under a line", "The log:\n```python\nprint('journal full')\n```",
     "<p>The log:</p><pre><code>print('journal full')\n</code></pre>"),
    ("list-like lines inside code stay code", "```\n- a\n  - b\n```",
     "<pre><code>- a\n  - b\n</code></pre>"),
    ("rule, not a list", "Above\n\n* * *\n\nBelow", "<p>Above</p><hr><p>Below</p>"),
]


@pytest.mark.parametrize(("markdown_text", "github"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_post_renders_as_github_does(markdown_text, github):
    assert shape(render_post(markdown_text)) == shape(github)


@pytest.mark.parametrize(("markdown_text", "github"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_article_renders_the_same_cases_as_github_does(markdown_text, github):
    assert shape(render_article(markdown_text).html) == shape(github)


def test_code_with_a_language_is_highlighted_in_posts_as_in_articles():
    text = "```python\nprint('x')\n```"
    assert render_post(text) == render_article(text).html
    assert '<span class="nb">print</span>' in render_post(text)


def test_a_task_checkbox_is_the_only_input_and_always_disabled():
    html = render_post('<input type="text" name="q"> <input type="checkbox" checked onclick="x()"> <input>')
    assert html.count("<input") == 1
    assert '<input type="checkbox" disabled checked>' in html
    assert "onclick" not in html and 'name="q"' not in html



def test_two_space_nesting_as_deep_as_the_structure_check_allows_renders_quickly():
    """The check counts indentation per four columns, so two-space lists pass it twice as deep; still bounded."""
    import time

    from kb.markup import structure_problem

    depth = 31
    text = "\n".join("  " * level + f"- level {level}" for level in range(depth))
    assert structure_problem(text) is None
    render_post(text)  # warm-up: the first render loads the extensions
    started = time.perf_counter()
    html = render_post(text)
    assert time.perf_counter() - started < 0.5
    assert html.count("<ul>") == depth
    assert structure_problem("\n".join("  " * level + "- x" for level in range(depth + 2)))
