"""Configuration defaults of stored files; KB_* environment values and instance config win."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from kb.config import ConfigError

DEFAULTS: dict[str, object] = {
    # Where file contents live: "filesystem" (ATTACHMENT_DIR) or "database" (chunked rows, for several hosts).
    "ATTACHMENT_STORAGE": "filesystem",
    "ATTACHMENT_DIR": None,  # None: <instance>/attachments
    # Bytes read, written and stored per piece (and per database row): bounds the memory one transfer takes.
    "ATTACHMENT_CHUNK_BYTES": 1024 * 1024,
    # The longest file name accepted, in characters.
    "ATTACHMENT_NAME_MAX_LENGTH": 255,
    # The largest file accepted, in bytes (log bundles are large).
    "ATTACHMENT_MAX_BYTES": 512 * 1024 * 1024,
    # `kb attachments-prune` removes files of cases closed longer than this many days (None: keep forever),
    # and uploads never attached to anything once they are older than ATTACHMENT_ORPHAN_HOURS.
    "ATTACHMENT_RETENTION_DAYS": None,
    "ATTACHMENT_ORPHAN_HOURS": 24,
}


def apply(app: Flask) -> None:
    config = app.config
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
    if not config.get("ATTACHMENT_DIR"):
        config["ATTACHMENT_DIR"] = str(Path(app.instance_path) / "attachments")
    if config["ATTACHMENT_STORAGE"] not in ("filesystem", "database"):
        raise ConfigError(
            f"KB_ATTACHMENT_STORAGE must be filesystem or database, not {config['ATTACHMENT_STORAGE']!r}."
        )
    for key in ("ATTACHMENT_MAX_BYTES", "ATTACHMENT_ORPHAN_HOURS"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"KB_{key} must be a positive whole number, not {value!r}.")
    days = config["ATTACHMENT_RETENTION_DAYS"]
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 0):
        raise ConfigError(f"KB_ATTACHMENT_RETENTION_DAYS must be a whole number of days (or unset), not {days!r}.")
    chunk = config["ATTACHMENT_CHUNK_BYTES"]
    if isinstance(chunk, bool) or not isinstance(chunk, int) or not 4096 <= chunk <= 64 * 1024 * 1024:
        raise ConfigError(f"KB_ATTACHMENT_CHUNK_BYTES must be a whole number from 4096 to 67108864, not {chunk!r}.")
