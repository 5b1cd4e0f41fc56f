"""Bounded work in `kb mail-in`: MIME depth, parts and header sizes capped, HTML cut and parsed, clean refusals."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from bench.support.mailin_inputs import (
    hostile_messages,
    many_parts,
    nested_multiparts,
    plain_message,
)
from kb.cases import notify
from kb.cases.models import EventKind
from kb.extensions import db


@pytest.fixture
def case(make_case, customer):
    return make_case(customer, title="Sites disconnect nightly")


@pytest.fixture
def address(case, customer):
    return notify.reply_address(case, customer)


def mail_in(runner, raw: bytes):
    return runner.invoke(args=["mail-in"], input=raw)


def comment_bodies(case) -> list[str]:
    db.session.expire_all()
    return [e.body for e in case.events if e.kind is EventKind.COMMENT]


def html_reply(customer, address, html: str) -> bytes:
    return plain_message(customer.email, address, "text/html; charset=utf-8", html)


@pytest.mark.slow
def test_every_hostile_message_is_added_or_refused_cleanly(runner, case, customer, address):
    for hostile in hostile_messages(customer.email, address):
        result = mail_in(runner, hostile.raw)
        assert result.exit_code == hostile.code, (hostile.name, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), hostile.name
        if hostile.code:
            assert result.stderr.startswith("Rejected:"), hostile.name
    assert all(body.startswith(("Answer.", "Still here.")) for body in comment_bodies(case))


def test_deep_nesting_is_refused_before_the_parser_recurses(app, runner, case, customer, address):
    result = mail_in(runner, nested_multiparts(customer.email, address, 3_000))
    assert result.exit_code == 65 and "nested more than 20 levels deep" in result.stderr
    app.config["MAILIN_MAX_MIME_DEPTH"] = 3
    assert "nested more than 3 levels" in mail_in(runner, nested_multiparts(customer.email, address, 4)).stderr
    assert mail_in(runner, nested_multiparts(customer.email, address, 3)).exit_code == 0
    assert comment_bodies(case) == ["Deep inside."]


def test_an_mbox_from_line_does_not_hide_the_nesting(runner, case, customer, address):
    raw = b"From alice@acme.example Mon Jan  5 10:00:00 2026\r\n" + nested_multiparts(customer.email, address, 3_000)
    assert "nested more than 20 levels deep" in mail_in(runner, raw).stderr


def test_a_parser_failure_is_a_clean_refusal(app, runner, case, customer, address):
    app.config.update(MAILIN_MAX_MIME_DEPTH=100_000, MAILIN_MAX_MIME_PARTS=100_000)
    result = mail_in(runner, nested_multiparts(customer.email, address, 1_500))
    assert result.exit_code == 65 and "could not be read as an email (RecursionError)" in result.stderr
    assert comment_bodies(case) == []


def test_nesting_hidden_in_a_digest_is_counted(app, runner, case, customer, address):
    """Parts of a multipart/digest are messages even without a Content-Type: each is a level."""
    app.config["MAILIN_MAX_MIME_DEPTH"] = 5
    body = "".join(f"--d{n}\r\n\r\nContent-Type: multipart/digest; boundary=\"d{n + 1}\"\r\n\r\n" for n in range(5))
    raw = plain_message(customer.email, address, "multipart/digest; boundary=\"d0\"", body + "--d5\r\n\r\nhi")
    assert "nested more than 5 levels" in mail_in(runner, raw).stderr


def test_rfc2231_boundaries_are_read_as_the_parser_reads_them(app, runner, case, customer, address):
    app.config["MAILIN_MAX_MIME_DEPTH"] = 2
    body = ("--a\r\nContent-Type: multipart/mixed; boundary*0=\"b\"; boundary*1=\"c\"\r\n\r\n--bc\r\n"
            "Content-Type: multipart/mixed; boundary=\"d\"\r\n\r\n--d\r\n\r\nhi\r\n")
    raw = plain_message(customer.email, address, "multipart/mixed; boundary=\"a\"", body)
    assert "nested more than 2 levels" in mail_in(runner, raw).stderr


def test_part_count_is_capped(app, runner, case, customer, address):
    app.config["MAILIN_MAX_MIME_PARTS"] = 4
    result = mail_in(runner, many_parts(customer.email, address, 4))
    assert result.exit_code == 65 and "more than 4 MIME parts" in result.stderr
    assert mail_in(runner, many_parts(customer.email, address, 3)).exit_code == 0
    assert comment_bodies(case) == ["part 0"]


def test_oversized_header_is_refused(app, runner, case, customer, address):
    others = ", ".join(f"user{n}@example.org" for n in range(40_000))
    result = mail_in(runner, plain_message(customer.email, f"{address}, {others}", "text/plain", "Hi."))
    assert result.exit_code == 65 and "longer than 16384 bytes" in result.stderr
    app.config["MAILIN_MAX_HEADER_BYTES"] = 200
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = customer.email, address, "long " * 60
    message.set_content("Hi.")
    assert "longer than 200 bytes" in mail_in(runner, bytes(message)).stderr
    app.config["MAILIN_MAX_HEADER_BYTES"] = 400
    assert mail_in(runner, bytes(message)).exit_code == 0


def test_reply_address_is_found_among_many_recipients(runner, case, customer, address):
    others = "".join(f"Cc: {', '.join(f'u{n}-{m}@example.org' for m in range(400))}\r\n" for n in range(50))
    result = mail_in(runner, plain_message(customer.email, "team@example.org", "text/plain", "Found.",
                                      extra=others + f"Cc: {address}\r\n"))
    assert result.exit_code == 0, result.output
    assert comment_bodies(case) == ["Found."]


def test_html_is_cut_to_the_size_limit_before_parsing(app, runner, case, customer, address):
    app.config["MAILIN_MAX_HTML_CHARS"] = 40
    assert mail_in(runner, html_reply(customer, address, "<p>First words.</p>" + "x" * 100 + "<p>LATER</p>")).exit_code == 0
    [body] = comment_bodies(case)
    assert body.startswith("First words.") and "LATER" not in body and len(body) < 40


def test_html_is_cut_at_the_tag_limit(app, runner, case, customer, address):
    app.config["MAILIN_MAX_HTML_TAGS"] = 6  # start and end tags
    assert mail_in(runner, html_reply(customer, address, "<p>a</p><p>b</p><p>c</p><p>d</p>")).exit_code == 0
    assert comment_bodies(case) == ["a\n\nb\n\nc"]


@pytest.mark.parametrize("html,text", [
    ("<p>Fixed &amp; done.</p><div id=\"divRplyFwdMsg\">From: Support</div><p>old</p>", "Fixed & done."),
    ("<p>New</p><div class=\"moz-cite-prefix x\">On Mon</div>old", "New"),
    ("<p>Kept <b>bold</b> words</p><!-- hidden --><title>t</title>", "Kept bold words"),
    ("<p>Broken <a href='x>markup</p> still read", "Broken"),
    ("Unclosed <div><div><p>layers", "Unclosed\n\nlayers"),
    ("<p>x &lt;script&gt; y</p><script>alert(1)</script>", "x <script> y"),
])
def test_html_parser_reads_text_and_drops_the_history(runner, case, customer, address, html, text):
    assert mail_in(runner, html_reply(customer, address, html)).exit_code == 0
    assert comment_bodies(case) == [text]


def test_a_charset_whose_decoding_is_quadratic_is_read_as_utf8(runner, case, customer, address):
    raw = plain_message(customer.email, address, "text/plain; charset=punycode", "Antwort: grüße.")
    assert mail_in(runner, raw).exit_code == 0
    assert comment_bodies(case) == ["Antwort: grüße."]


def test_long_content_type_parameter_lists_are_read_without_the_slow_header_parser(runner, case, customer, address):
    params = "; ".join(f"p{n}=v" for n in range(2_700))[:16_000]
    raw = plain_message(customer.email, address, f"text/plain; {params}; charset=utf-8", "Still read.")
    assert mail_in(runner, raw).exit_code == 0
    assert comment_bodies(case) == ["Still read."]


def test_mail_in_limits_are_settings_read_from_the_environment(monkeypatch, app_config, tmp_path):
    from kb import create_app

    monkeypatch.setenv("KB_MAILIN_MAX_MIME_DEPTH", "7")
    monkeypatch.setenv("KB_MAILIN_TOKEN_MAX_AGE_DAYS", "14")
    app = create_app(app_config, instance_path=str(tmp_path / "env"))
    assert app.config["MAILIN_MAX_MIME_DEPTH"] == 7 and app.config["MAILIN_TOKEN_MAX_AGE_DAYS"] == 14
    assert (app.config["MAILIN_MAX_MIME_PARTS"], app.config["MAILIN_MAX_HEADER_BYTES"]) == (200, 16 * 1024)
    assert (app.config["MAILIN_MAX_HTML_CHARS"], app.config["MAILIN_MAX_HTML_TAGS"]) == (200_000, 3_000)
    assert app.config["MAILIN_STAFF_FIRST_RESPONSE"] is False
    assert app.config["MAILIN_REQUIRE_AUTHENTICATION"] is False and app.config["MAILIN_AUTHSERV_ID"] == ""
