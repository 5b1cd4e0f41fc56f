"""Limits of images in articles and forum posts; applied with setdefault so instance config and KB_* win."""

from __future__ import annotations

DEFAULTS: dict[str, object] = {
    # The largest image file accepted from the editor or the composer, in bytes (413 above it).
    "IMAGE_MAX_BYTES": 10 * 1024 * 1024,
    # Decoded size: a few KiB of PNG can expand to gigabytes of pixels, so the header is checked first.
    "IMAGE_MAX_PIXELS": 40_000_000,
    "IMAGE_MAX_SIDE": 12_000,
    # Forum members may add images to posts (staff always may, in articles too) ...
    "FORUM_IMAGES_ENABLED": True,
    # ... this many in any 24 hours each (staff: no limit).
    "FORUM_IMAGE_DAILY_LIMIT": 20,
}


def apply(config) -> None:
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
