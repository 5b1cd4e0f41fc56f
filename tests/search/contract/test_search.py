"""Searching as a user: ranking, typos, highlighting, facets, filters, leaks, pages and JSON."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from kb.search import search, suggest
from tests.conftest import login
from tests.search.notes import add_note

ANON = AnonymousUserMixin()


def test_title_ranks_first(corpus):
    assert search("sizing journals", ANON).results[0].title == "Sizing journals"
    assert search("appliance memory", ANON).results[0].title == "Replication appliance runs out of memory"


def test_stemming_matches_other_word_forms(corpus):
    assert search("journal sized", ANON).results[0].title == "Sizing journals"
    assert search("booting", ANON).results[0].title == "Failover test VMs fail to boot"


def test_typo_still_finds_and_offers_a_correction(corpus):
    found = search("replicaton appliance", ANON)
    assert found.results[0].title == "Replication appliance runs out of memory"
    assert found.did_you_mean == "replication appliance"
    found = search("jurnal sizing", ANON)
    assert found.results[0].title == "Sizing journals"
    assert found.did_you_mean == "journal sizing"


def test_exact_words_weigh_more_than_fuzzy_ones(search_app):
    add_note("Journal basics", "About the journal.")
    add_note("Journey planning", "About the journey.")
    titles = [h.title for h in search("journl", ANON).results]
    assert titles[0] in ("Journal basics", "Journey planning") and len(titles) >= 1
    exact = [h.title for h in search("journey", ANON).results]
    assert exact == ["Journey planning"]


def test_a_typo_that_makes_another_real_word_is_corrected(search_app, app):
    add_note("Replication state after a failover", "What the group shows once the failover ends.")
    add_note("Stare at the console", "Watching the dashboard does not speed anything up.")
    found = search("replication stare", ANON)
    assert [h.title for h in found.results] == ["Replication state after a failover"]
    assert found.did_you_mean == "replication state"
    app.config["SEARCH_RESPELL_BELOW"] = 0  # respelling off: only the any-word fallback is left
    unrespelled = search("replication stare", ANON)
    assert unrespelled.loose and unrespelled.did_you_mean is None


def test_a_mistyped_first_letter_is_corrected_to_the_commonest_near_word(search_app):
    add_note("Using snapshots", "Snapshots made using the console.")
    add_note("Using tags", "Tags you set using the API.")
    add_note("Asking for help", "Open a case.")
    found = search("asing snapshots", ANON)
    assert [h.title for h in found.results] == ["Using snapshots"]
    assert found.did_you_mean == "using snapshots"


def test_two_swapped_letters_count_as_one_typo(search_app):
    add_note("Sizing journals", "About the journal.")
    found = search("jounral", ANON)
    assert [h.title for h in found.results] == ["Sizing journals"]
    assert found.did_you_mean == "journal"


def test_a_word_added_after_a_search_is_offered_as_a_correction(search_app):
    add_note("Sizing journals", "About the journal.")
    assert search("jurnal", ANON).did_you_mean == "journal"  # the vocabulary is now in use
    add_note("Hypervisor notes", "Runs on kubernetes.")
    found = search("kubernetis", ANON)
    assert [h.title for h in found.results] == ["Hypervisor notes"]
    assert found.did_you_mean == "kubernetes"


def test_a_misspelt_stop_word_no_longer_narrows_the_search(search_app):
    add_note("Sizing journals", "You have to size the journal for the peak change rate.")
    add_note("Save your settings", "Export the settings before an upgrade.")
    found = search("journal hsve", ANON)
    assert [h.title for h in found.results] == ["Sizing journals"]
    assert found.did_you_mean == "journal have"


def test_how_many_near_spellings_are_searched_is_configurable(search_app, app):
    for word in ("rules", "roles", "files", "rises"):
        add_note(f"About {word}", f"Notes on {word}.")
    assert {h.title for h in search("riles", ANON).results} == {"About rules", "About roles", "About files",
                                                                   "About rises"}
    app.config["SEARCH_FUZZY_ALTERNATIVES"] = 1
    assert len(search("riles", ANON).results) == 1


def test_phrases_operators_and_prefixes(corpus):
    assert [h.title for h in search('"boot order"', ANON).results] == ["Failover test VMs fail to boot"]
    assert [h.title for h in search('"order boot"', ANON).results] == []
    assert {h.title for h in search("memory OR boot", ANON).results} == {
        "Replication appliance runs out of memory", "Failover test VMs fail to boot"}
    assert [h.title for h in search("memory OR boot -swapping", ANON).results] == ["Failover test VMs fail to boot"]
    assert [h.title for h in search("memory OR boot NOT swapping", ANON).results] == ["Failover test VMs fail to boot"]
    assert {h.title for h in search("journ*", ANON).results} == {"Sizing journals"}


def test_error_codes_and_versions_are_found_as_typed(search_app):
    """Hyphenated codes and versions are words a customer copies from a screen: "HS-5124" must
    find the page that shows it, in its title, headings or body, and in type-ahead."""
    add_note("Mapping missing (HS-5124) after failover", "The recovery plan stops.")
    add_note("Upgrade notes", "Before 8.0-beta2 the console showed error -4021 on start.", headings="Error HS-7001")
    assert [h.title for h in search("HS-5124", ANON).results] == ["Mapping missing (HS-5124) after failover"]
    assert [h.title for h in search("hs 5124 failover", ANON).results] == ["Mapping missing (HS-5124) after failover"]
    assert [h.title for h in search("error 4021", ANON).results] == ["Upgrade notes"]
    assert [h.title for h in search("8.0-beta2", ANON).results] == ["Upgrade notes"]
    assert [h.title for h in search("HS-7001", ANON).results] == ["Upgrade notes"]
    assert [s["title"] for s in suggest("HS-51", ANON)] == ["Mapping missing (HS-5124) after failover"]


def test_a_quoted_phrase_matches_other_word_forms_in_order_only(search_app):
    add_note("Setting up", "First configured replication between the sites, then tested it.")
    add_note("Other order", "Replication is configured between the sites.")
    assert [h.title for h in search('"configure replication"', ANON).results] == ["Setting up"]
    assert [h.title for h in search('"replication configured"', ANON).results] == ["Other order"]


def test_snippets_are_escaped_and_highlighted(corpus):
    snippet = str(search("recovery network", ANON).results[0].snippet)
    assert "<mark>recovery</mark>" in snippet and "<mark>network</mark>" in snippet
    assert "<script" not in snippet and "&lt;script" in snippet


def test_a_snippet_comes_from_where_the_words_are_in_a_long_page(search_app):
    filler = " ".join(f"filler{n}" for n in range(1500))
    add_note("Long page", f"{filler} the grey heron nests by the water, {filler}")
    snippet = str(search("heron", ANON).results[0].snippet)
    assert "<mark>heron</mark> nests" in snippet
    words = snippet.replace("<mark>", "").replace("</mark>", "").split()
    assert all(word.startswith("filler") and word[6:].isdigit() for word in words if word not in
               ("the", "grey", "heron", "nests", "by", "water,", "…"))  # no word cut in two
    assert len(snippet) < 1000


def test_facets_count_every_match_and_filters_narrow(corpus):
    found = search("journal OR memory OR boot", ANON)
    assert found.total == 3
    assert found.facets["article_type"] == {"troubleshooting": 2, "best-practice": 1}
    assert found.facets["versions"]["8.0"] == 3 and found.facets["versions"]["7.2"] == 1
    narrowed = search("journal OR memory OR boot", ANON, filters={"type": "troubleshooting", "version": "7.3"})
    assert [h.title for h in narrowed.results] == ["Failover test VMs fail to boot"]
    assert narrowed.facets["category"] == {"failover": 1}


def test_sort_newest(corpus):
    found = search("journal OR memory OR boot", ANON, sort="newest")
    assert [h.title for h in found.results] == [
        "Failover test VMs fail to boot", "Replication appliance runs out of memory", "Sizing journals"]


@pytest.mark.parametrize("role, visible", [
    (None, {"Sizing journals"}),
    ("customer", {"Sizing journals", "Customer-only journal tips"}),
    ("staff", {"Sizing journals", "Customer-only journal tips", "Staff runbook for journal corruption"}),
])
def test_nothing_leaks_in_results_totals_facets_or_suggestions(corpus, make_user, role, visible):
    viewer = make_user(role) if role else ANON
    found = search("journal", viewer, per_page=50)
    assert {h.title for h in found.results} == visible
    assert found.total == len(visible)
    assert sum(found.facets["kind"].values()) == len(visible)
    assert found.facets["article_type"].get("how-to", 0) == len(visible & {
        "Customer-only journal tips", "Staff runbook for journal corruption"})
    titles = {s["title"] for s in suggest("journal", viewer)} | {s["title"] for s in suggest("staff run", viewer)} \
        | {s["title"] for s in suggest("customer", viewer)}
    assert titles <= visible | {"Sizing journals"}
    assert "Draft about journal compaction" not in {h.title for h in search("compaction", viewer).results}
    assert search("compaction", viewer).total == 0


SIZING_EXCERPT = "Journal size equals the peak hourly change rate times the history hours."


def test_suggest_prefix_and_fuzzy(corpus):
    assert [s["title"] for s in suggest("siz", ANON)] == ["Sizing journals"]
    assert suggest("sizing jour", ANON)[0] == {"title": "Sizing journals", "url": "/notes/1", "kind": "note",
                                               "excerpt": SIZING_EXCERPT}
    assert [s["title"] for s in suggest("failovr", ANON)] == ["Failover test VMs fail to boot"]
    assert suggest("s", ANON) == []


def test_suggest_matches_words_anywhere_in_titles_and_in_the_opening_of_the_body(search_app, app):
    add_note("Replication appliance runs out of memory", "The appliance starts swapping. " + "Filler. " * 60
             + "Far down: heron.")
    add_note("Sizing journals", "Swapping journals between sites needs planning.")
    assert [s["title"] for s in suggest("out of mem", ANON)] == ["Replication appliance runs out of memory"]
    assert [s["title"] for s in suggest("appliance swap", ANON)] == ["Replication appliance runs out of memory"]
    # A title match comes before a match in another page's opening words.
    assert [s["title"] for s in suggest("journ", ANON)] == ["Sizing journals"]
    assert {s["title"] for s in suggest("swapping", ANON)} == {"Sizing journals",
                                                               "Replication appliance runs out of memory"}
    assert suggest("heron", ANON) == []  # further into the body than the opening
    long_excerpt = suggest("appliance", ANON)[0]["excerpt"]
    assert long_excerpt.startswith("The appliance starts swapping.") and len(long_excerpt) <= 120
    app.config["SEARCH_SUGGEST_EXCERPT_CHARS"] = 40
    assert len(suggest("appliance", ANON)[0]["excerpt"]) <= 40


def test_pagination(search_app):
    for i in range(25):
        add_note(f"Pelican note {i}", "pelican")
    first = search("pelican", ANON, per_page=10)
    third = search("pelican", ANON, per_page=10, page=3)
    assert first.total == 25 and first.pages == 3 and len(third.results) == 5
    assert not {h.title for h in first.results} & {h.title for h in third.results}
    assert search("pelican", ANON, per_page=10, page=9).results == []


# --- the pages -----------------------------------------------------------------------------------

def test_results_page_html(corpus, client):
    page = client.get("/search?q=journal+sizing")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sizing journals" in html and "<mark>" in html
    assert "/search/click?" in html
    assert "Customer-only journal tips" not in html and "Staff runbook" not in html
    assert "Article type" in html and "Best practice" in html and "best-practice<" not in html


def test_results_page_json(corpus, client):
    data = client.get("/search?q=journal&format=json").get_json()
    assert set(data) >= {"results", "total", "facets", "page"}
    assert data["total"] == 1 and data["page"] == 1
    assert set(data["results"][0]) == {"url", "title", "kind", "snippet", "score"}


def test_json_respects_the_signed_in_viewer(corpus, client, make_user):
    login(client, make_user("staff"))
    data = client.get("/search?q=journal&format=json").get_json()
    assert data["total"] == 3


def test_did_you_mean_links_to_corrected_results(corpus, client):
    html = client.get("/search?q=jurnal+sizing").get_data(as_text=True)
    assert "Did you mean" in html and "q=journal+sizing" in html


def test_facet_filter_links(corpus, client):
    html = client.get("/search?q=journal+OR+memory+OR+boot").get_data(as_text=True)
    assert "type=troubleshooting" in html and "version=7.2" in html
    html = client.get("/search?q=journal+OR+memory+OR+boot&type=troubleshooting").get_data(as_text=True)
    assert "Sizing journals" not in html and "Any article type" in html


HOSTILE = ['"unbalanced', "OR", "AND AND", "NOT", "title:secret", "((a", "*", "-", "x" * 10_240,
           "\x00\x07\x1b", "日本語 🚀 Ωμέγα", "a\u202eb", "%00", "<script>alert(1)</script>", "\\", "'; DROP TABLE x;--",
           "journ* AND NOT -\"", "~2 ^3 [a TO z]"]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_500(corpus, client, query):
    for path in ("/search", "/search/suggest"):
        response = client.get(path, query_string={"q": query})
        assert response.status_code == 200
        assert b"<script>alert" not in response.data
    assert client.get("/search", query_string={"q": query, "format": "json"}).status_code == 200


@pytest.mark.parametrize("args", [{"page": "0"}, {"page": "abc"}, {"page": "100000"}, {"per_page": "-1"}])
def test_bad_paging_is_a_400(corpus, client, args):
    assert client.get("/search", query_string={"q": "journal", **args}).status_code == 400


def test_long_query_is_truncated_to_the_configured_limit(corpus, app, client):
    app.config["SEARCH_QUERY_MAX_LENGTH"] = 20
    data = client.get("/search", query_string={"q": "sizing journals " + "zzz " * 50, "format": "json"}).get_json()
    assert data["total"] == 1


def test_suggest_endpoint(corpus, client):
    data = client.get("/search/suggest?q=siz").get_json()
    assert data == {"suggestions": [{"title": "Sizing journals", "url": "/notes/1", "kind": "note",
                                     "excerpt": SIZING_EXCERPT}]}
    assert client.get("/search/suggest").get_json() == {"suggestions": []}


def test_suggest_limit_is_configurable(search_app, client):
    for i in range(12):
        add_note(f"Pelican {i}")
    assert len(client.get("/search/suggest?q=peli").get_json()["suggestions"]) == 8
    search_app.config["SEARCH_SUGGEST_LIMIT"] = 3
    assert len(client.get("/search/suggest?q=peli").get_json()["suggestions"]) == 3


def test_empty_search_page(client, search_app):
    page = client.get("/search")
    assert page.status_code == 200 and b"Type a question" in page.data
