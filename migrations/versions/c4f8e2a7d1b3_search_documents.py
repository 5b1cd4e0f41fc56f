"""Search: the PostgreSQL engine's documents (weighted tsvector under GIN), its word list (pg_trgm)
and its stem counts.

On SQLite the same tables are created with plain types and stay empty (that site uses Whoosh).

Revision ID: c4f8e2a7d1b3
Revises: c4f1a9e2d7b3
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import kb.types

# PostgreSQL's English stemmer without its stop words (kb/search/engines/postgres/models.py).
CREATE_TEXT_SEARCH_CONFIG = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_dict WHERE dictname = 'kb_english_stem') THEN
    CREATE TEXT SEARCH DICTIONARY kb_english_stem (TEMPLATE = snowball, Language = english);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'kb_english') THEN
    CREATE TEXT SEARCH CONFIGURATION kb_english (COPY = english);
    ALTER TEXT SEARCH CONFIGURATION kb_english ALTER MAPPING
      FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH kb_english_stem;
  END IF;
END $$
"""

revision = 'c4f8e2a7d1b3'
down_revision = "c4f1a9e2d7b3"
branch_labels = None
depends_on = None


def _create_trigram_extension() -> None:
    """pg_trgm backs corrections and "Did you mean"; say plainly what to do when it cannot be had."""
    bind = op.get_bind()
    if bind.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
        return
    if not bind.scalar(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")):
        raise RuntimeError("The PostgreSQL server lacks the pg_trgm extension, which search needs: install the "
                           "server's contrib package (for example postgresql-contrib) and run `kb init` again.")
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        raise RuntimeError("Could not create the pg_trgm extension search needs (the database user may not "
                           "create extensions): run `CREATE EXTENSION pg_trgm;` in this database as a "
                           f"superuser, then `kb init` again. The server said: {exc.orig}") from None


def _trigram_schema() -> str:
    """The quoted schema pg_trgm was installed in."""
    bind = op.get_bind()
    schema = bind.scalar(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                                 "WHERE e.extname = 'pg_trgm'"))
    return bind.dialect.identifier_preparer.quote_schema(schema)


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        _create_trigram_extension()
        op.execute(CREATE_TEXT_SEARCH_CONFIG)
    tsv = postgresql.TSVECTOR() if postgres else sa.Text()
    terms = postgresql.ARRAY(sa.Text()) if postgres else sa.JSON()
    facets = postgresql.JSONB() if postgres else sa.JSON()
    op.create_table('search_documents',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('doc_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('visibility', sa.String(length=80), nullable=False),
    sa.Column('category', sa.String(length=120), nullable=False),
    sa.Column('category_name', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('excerpt', sa.Text(), nullable=False),
    sa.Column('facets', facets, nullable=False),
    sa.Column('facet_terms', terms, nullable=False),
    sa.Column('badges', sa.JSON(), nullable=False),
    sa.Column('body_length', sa.Integer(), nullable=False),
    sa.Column('updated', kb.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('digest', sa.String(length=40), nullable=False),
    sa.Column('tsv', tsv, nullable=True),
    sa.Column('suggest_tsv', tsv, nullable=True),
    sa.PrimaryKeyConstraint('kind', 'doc_id', name=op.f('pk_search_documents'))
    )
    op.create_index('ix_search_documents_tsv', 'search_documents', ['tsv'], unique=False, postgresql_using='gin')
    op.create_index('ix_search_documents_suggest_tsv', 'search_documents', ['suggest_tsv'], unique=False,
                    postgresql_using='gin')
    op.create_index('ix_search_documents_facet_terms', 'search_documents', ['facet_terms'], unique=False,
                    postgresql_using='gin')
    op.create_index('ix_search_documents_visibility_updated', 'search_documents', ['visibility', 'updated'],
                    unique=False)
    op.create_table('search_lexemes',
    sa.Column('word', sa.String(length=60), nullable=False),
    sa.Column('visibility', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('word', 'visibility', name=op.f('pk_search_lexemes'))
    )
    if postgres:
        # Named with pg_trgm's own schema: the extension may already live in a schema that is not on
        # this database user's search_path (it is created once per database, not per schema).
        op.execute(f"CREATE INDEX ix_search_lexemes_word_trgm ON search_lexemes USING gin "
                   f"(word {_trigram_schema()}.gin_trgm_ops)")
    else:
        op.create_index('ix_search_lexemes_word_trgm', 'search_lexemes', ['word'], unique=False)
    op.create_table('search_terms',
    sa.Column('lexeme', sa.Text(), nullable=False),
    sa.Column('documents', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('lexeme', name=op.f('pk_search_terms'))
    )


def downgrade():
    op.drop_table('search_terms')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS kb_english")
        op.execute("DROP TEXT SEARCH DICTIONARY IF EXISTS kb_english_stem")
    op.drop_index('ix_search_lexemes_word_trgm', table_name='search_lexemes')
    op.drop_table('search_lexemes')
    op.drop_index('ix_search_documents_visibility_updated', table_name='search_documents')
    op.drop_index('ix_search_documents_facet_terms', table_name='search_documents')
    op.drop_index('ix_search_documents_suggest_tsv', table_name='search_documents')
    op.drop_index('ix_search_documents_tsv', table_name='search_documents')
    op.drop_table('search_documents')
