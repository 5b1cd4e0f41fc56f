"""PostgreSQL search documents keep what every match is read for (tsvector, facet terms, kind,
visibility, category) in the row, not out of line in the TOAST table: a query with many matches
takes about two thirds of the time. Rows already written move as they are rewritten: `kb init`
rebuilds them, since the table is not marked with the new format.

Revision ID: d2e6b8f1a4c7
Revises: c4a7e19d2b58
"""
from alembic import op

revision = "d2e6b8f1a4c7"
down_revision = "c4a7e19d2b58"
branch_labels = None
depends_on = None


STORAGE = {"tsv": "MAIN", "facet_terms": "MAIN", "kind": "PLAIN", "visibility": "PLAIN", "category": "PLAIN"}


def _set_storage(storage: dict[str, str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        columns = ", ".join(f"ALTER COLUMN {column} SET STORAGE {kind}" for column, kind in storage.items())
        op.execute(f"ALTER TABLE search_documents {columns}")


def upgrade():
    _set_storage(STORAGE)


def downgrade():
    _set_storage({column: "EXTENDED" for column in STORAGE})
