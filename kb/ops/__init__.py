"""Running the site: database set-up, locks, backups, metrics and logs."""
