"""Snippets: the stretches of a result's text that hold the query's words, escaped and marked."""

from __future__ import annotations

from kb.search.engines.whoosh.results import _marked, _stem


def _terms(*words: str) -> frozenset:
    return frozenset(stem for w in words if (stem := _stem(w)) is not None)


def test_every_form_of_a_query_word_is_marked_and_the_rest_escaped():
    text = "Replicated VMs: <b>the replicas</b> keep replicating & tests."
    assert _marked(text, _terms("replicated"), 240) == (
        "<mark>Replicated</mark> VMs: &lt;b&gt;the replicas&lt;/b&gt; keep "
        "<mark>replicating</mark> &amp; tests.")


def test_distant_matches_give_two_stretches_on_whole_words():
    filler = " ".join(f"word{n}" for n in range(60))
    text = f"Journal sizing first. {filler} then the journal again at the end of a long text"
    marked = _marked(text, _terms("journal"), 80)
    first, second = marked.split(" … ")
    assert first.startswith("<mark>Journal</mark> sizing first.")
    assert "<mark>journal</mark> again" in second
    assert all(not part.split()[0].startswith("ord") for part in (first, second))  # no word cut in two
    assert len(first) < 120 and len(second) < 120


def test_nothing_matched_gives_nothing_and_stop_words_are_never_marked():
    assert _marked("Nothing to see here.", _terms("journal"), 240) == ""
    assert _stem("the") is None
    assert _marked("the journal", _terms("the", "journal"), 240) == "the <mark>journal</mark>"
