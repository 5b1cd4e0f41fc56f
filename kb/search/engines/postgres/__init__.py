"""The PostgreSQL engine: search documents in the site's database, for sites on several hosts."""

from kb.search.engines.postgres.engine import PostgresEngine

__all__ = ["PostgresEngine"]
