"""Cleaning uploaded images: CPU time to decode and re-encode the largest screenshots and photos, and to refuse bombs.

Each case is what one upload costs the request that takes it (Pillow, no database): a 4K and a 5K
screenshot as PNG, a 12-megapixel phone photo as JPEG with GPS tags, a WebP, and decompression
bombs that must be refused from the header alone. Targets (2 cores): under 2 s for any accepted
image at the default limits, under 0.05 s for a refusal. CPU time of this process decides; wall
time is printed beside it.
Usage: python bench/image_uploads.py [repeats]
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw

from kb.images.reencode import ImageRefused, reencode
from kb.images.settings import DEFAULTS

REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
LIMITS = {"max_pixels": int(DEFAULTS["IMAGE_MAX_PIXELS"]), "max_side": int(DEFAULTS["IMAGE_MAX_SIDE"])}
ACCEPT_TARGET, REFUSE_TARGET = 2.0, 0.05


def screenshot(width: int, height: int) -> bytes:
    """A screenshot-like PNG: flat panels, lines and some noise where text would be."""
    image = Image.new("RGB", (width, height), (236, 240, 244))
    draw = ImageDraw.Draw(image)
    for top in range(0, height, 120):
        draw.rectangle([40, top + 10, width - 40, top + 100], fill=(255, 255, 255), outline=(190, 198, 206))
    noise = Image.frombytes("L", (width // 3, height // 3), os.urandom((width // 3) * (height // 3)))
    image.paste(noise.convert("RGB"), (width // 3, height // 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def photo(fmt: str, width: int, height: int) -> bytes:
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 22.0, 7.5), 3: "E", 4: (4.0, 53.0, 2.25)})
    image = Image.frombytes("RGB", (width // 8, height // 8), os.urandom((width // 8) * (height // 8) * 3))
    out = io.BytesIO()
    image.resize((width, height)).save(out, fmt, exif=exif.tobytes(), quality=85)
    return out.getvalue()


def bomb(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG")
    return out.getvalue()


def timed(data: bytes) -> tuple[float, float, str]:
    worst_cpu = worst_wall = 0.0
    outcome = ""
    for _ in range(REPEATS):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            clean = reencode(data, **LIMITS)
            outcome = f"{clean.content_type}, {len(clean.data) / 1e6:.2f} MB out"
        except ImageRefused as exc:
            outcome = f"refused ({exc.status})"
        worst_cpu = max(worst_cpu, time.process_time() - cpu)
        worst_wall = max(worst_wall, time.perf_counter() - wall)
    return worst_cpu, worst_wall, outcome


def main() -> int:
    cases = [
        ("4K screenshot PNG 3840x2160", screenshot(3840, 2160), ACCEPT_TARGET),
        ("5K screenshot PNG 5120x2880", screenshot(5120, 2880), ACCEPT_TARGET),
        ("12 MP photo JPEG with GPS 4032x3024", photo("JPEG", 4032, 3024), ACCEPT_TARGET),
        ("12 MP photo WebP 4032x3024", photo("WEBP", 4032, 3024), ACCEPT_TARGET),
        ("bomb PNG 11000x11000 (121 MP)", bomb(11_000, 11_000), REFUSE_TARGET),
        ("bomb PNG 60000x10 (one side)", bomb(60_000, 10), REFUSE_TARGET),
    ]
    failed = False
    print(f"{'case':40} {'in MB':>7} {'cpu s':>7} {'wall s':>7}  outcome")
    for name, data, target in cases:
        cpu, wall, outcome = timed(data)
        verdict = "ok" if cpu <= target else f"SLOW (target {target} s)"
        failed |= cpu > target
        print(f"{name:40} {len(data) / 1e6:7.2f} {cpu:7.3f} {wall:7.3f}  {outcome}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
