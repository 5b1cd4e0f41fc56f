"""The embedded Whoosh engine; the only package that imports Whoosh."""

from kb.search.engines.whoosh.engine import WhooshEngine

__all__ = ["WhooshEngine"]
