"""Thread addresses keep a readable slug whatever script the title is in."""

from __future__ import annotations


def test_a_cjk_thread_title_shows_in_its_address(client, make_thread, customer):
    thread = make_thread(customer, title="日志分析")
    assert thread.slug == "ri-zhi-fen-xi"
    assert client.get(f"/threads/{thread.id}-{thread.slug}").status_code == 200
