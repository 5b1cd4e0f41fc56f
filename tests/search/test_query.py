"""Query parsing is pure: any text becomes a valid query structure."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.search.query import (
    MUST,
    NOT,
    PHRASE,
    PREFIX,
    SHOULD,
    WORD,
    clean,
    normalise,
    parse,
)


def kinds(parsed):
    return [(c.kind, c.text, c.occur) for c in parsed.clauses]


def test_words_phrases_prefixes_and_operators():
    assert kinds(parse('"journal size" repl* NOT memory')) == [
        (PHRASE, '"journal size"', MUST), (PREFIX, "repl", MUST), (WORD, "memory", NOT)]
    parsed = parse("failover OR failback test")
    assert kinds(parsed) == [(WORD, "failover", SHOULD), (WORD, "failback", SHOULD), (WORD, "test", MUST)]
    assert parsed.or_groups == [[0, 1]]
    assert kinds(parse("-boot order")) == [(WORD, "boot", NOT), (WORD, "order", MUST)]


@pytest.mark.parametrize("text", ['"unbalanced', "OR", "AND", "NOT", "title:foo", "((", "*", "-", '""', "a*"])
def test_hostile_fragments_read_as_text(text):
    parsed = parse(text)
    assert all(c.occur != NOT for c in parsed.clauses) or not parsed.positive


def test_field_syntax_is_just_words():
    assert kinds(parse("title:journal")) == [(PHRASE, "title journal", MUST)]


def test_a_lone_negation_searches_for_the_word():
    assert kinds(parse("NOT memory")) == [(WORD, "memory", MUST)]


def test_limits_cut_length_and_terms():
    assert len(clean("x" * 20_000, 500)) == 500
    assert len(parse("word " * 100, max_terms=24).clauses) == 24


def test_control_characters_and_unicode():
    assert clean("a\x00b\x1b[31mc\u200bd", 100) == "a b [31mc d"
    assert normalise("  Ｆａｉｌｏｖｅｒ   TEST ") == "failover test"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parse_never_fails(text):
    parse(text)
