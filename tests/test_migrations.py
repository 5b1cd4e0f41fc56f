"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from kb import create_app
from kb.extensions import db
from tests.conftest import POSTGRES_URL


@pytest.fixture
def scratch_database_url(tmp_path):
    """A database nobody else uses: a SQLite file, or a new PostgreSQL database when testing on PostgreSQL."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    name = f"kb_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_match_models_and_downgrade_cleanly(scratch_database_url, tmp_path):
    app = create_app({"ENV": "testing", "SECRET_KEY": "x", "DATABASE_URL": scratch_database_url},
                     instance_path=str(tmp_path / "instance"))
    with app.app_context():
        upgrade()
        # Some tests declare throwaway models on the shared metadata; only the site's own tables count.
        test_tables = {m.local_table.name for m in db.Model.registry.mappers if m.class_.__module__.startswith("tests")}

        def site_object(obj, name, type_, reflected, compare_to):
            return not (type_ == "table" and name in test_tables)

        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False, "include_object": site_object})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ; regenerate the migration: {diff}"
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
