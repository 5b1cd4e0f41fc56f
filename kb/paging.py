"""Pagination over lists already built in Python, for pages that merge or compute their rows."""

from __future__ import annotations


class ListPage:
    """A page of entries, with the attributes the pager macro reads.

    Given ``total``, ``items`` already is the requested page; otherwise it is the whole sorted list.
    """

    def __init__(self, items: list, page: int, per_page: int, total: int | None = None):
        self.total = len(items) if total is None else total
        self.per_page = per_page
        self.pages = max(1, -(-self.total // per_page))
        self.page = min(max(page, 1), self.pages)
        start = (self.page - 1) * per_page
        self.items = items[start : start + per_page] if total is None else items
        self.has_prev, self.has_next = self.page > 1, self.page < self.pages
        self.prev_num, self.next_num = self.page - 1, self.page + 1
