"""PostgreSQL search documents carry a facet set (one number per distinct kind, category and facet
terms) that the facet counts group matches by, and hold what every match is read for at the front
of the row. The table holds nothing but what the index is built from, so it is made anew in the new
column order (PostgreSQL cannot move a column); `kb init` then rebuilds the documents, as it does
for an empty table.

Revision ID: f5b2d8c3a1e9
Revises: e3a9c5d1f7b2
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import kb.types

revision = "f5b2d8c3a1e9"
down_revision = "e3a9c5d1f7b2"
branch_labels = None
depends_on = None

STORAGE = {"tsv": "MAIN", "facet_terms": "MAIN", "kind": "PLAIN", "visibility": "PLAIN", "category": "PLAIN"}


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    tsv = postgresql.TSVECTOR() if postgres else sa.Text()
    terms = postgresql.ARRAY(sa.Text()) if postgres else sa.JSON()
    facets = postgresql.JSONB() if postgres else sa.JSON()
    op.drop_table("search_documents")
    op.create_table(
        "search_documents",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("doc_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("visibility", sa.String(length=80), nullable=False),
        sa.Column("category", sa.String(length=120), nullable=False),
        sa.Column("facet_set", sa.BigInteger(), nullable=False),
        sa.Column("body_length", sa.Integer(), nullable=False),
        sa.Column("facet_terms", terms, nullable=False),
        sa.Column("tsv", tsv, nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("category_name", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("facets", facets, nullable=False),
        sa.Column("badges", sa.JSON(), nullable=False),
        sa.Column("updated", kb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=40), nullable=False),
        sa.Column("suggest_tsv", tsv, nullable=True),
        sa.PrimaryKeyConstraint("kind", "doc_id", name=op.f("pk_search_documents")),
    )
    op.create_index("ix_search_documents_tsv", "search_documents", ["tsv"], unique=False, postgresql_using="gin")
    op.create_index("ix_search_documents_suggest_tsv", "search_documents", ["suggest_tsv"], unique=False,
                    postgresql_using="gin")
    op.create_index("ix_search_documents_facet_terms", "search_documents", ["facet_terms"], unique=False,
                    postgresql_using="gin")
    op.create_index("ix_search_documents_visibility_updated", "search_documents", ["visibility", "updated"],
                    unique=False)
    op.create_index("ix_search_documents_facet_set", "search_documents", ["facet_set"], unique=False)
    if postgres:
        columns = ", ".join(f"ALTER COLUMN {column} SET STORAGE {kind}" for column, kind in STORAGE.items())
        op.execute(f"ALTER TABLE search_documents {columns}")


def downgrade():
    op.drop_index("ix_search_documents_facet_set", table_name="search_documents")
    with op.batch_alter_table("search_documents") as batch:
        batch.drop_column("facet_set")
