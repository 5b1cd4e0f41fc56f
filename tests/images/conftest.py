"""Images made with Pillow for the tests: a phone photo with GPS tags, screenshots, a decompression bomb."""

from __future__ import annotations

import io
import os

from PIL import Image

from tests.articles.conftest import content  # noqa: F401  (a content/ folder, for the import tests)
from tests.forums.conftest import categories, make_thread  # noqa: F401  (forum fixtures, for the post tests)

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def png_bytes(size=(40, 30), color=(20, 120, 200), text: dict | None = None) -> bytes:
    """A PNG, optionally with tEXt chunks (where editors put comments, authors and software)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_gps(size=(60, 40), orientation: int | None = None) -> bytes:
    """A JPEG as a phone writes it: camera model and GPS position in EXIF, maybe an orientation tag."""
    exif = Image.Exif()
    exif[0x0110] = "Phone 12 Pro"
    if orientation:
        exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (52.0, 22.0, 7.5), 3: "E", 4: (4.0, 53.0, 2.25)})
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def noisy_png(width: int, height: int) -> bytes:
    """A PNG that does not compress: random pixels, about 3 bytes per pixel."""
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "PNG")
    return out.getvalue()


def other_format(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 200, 0)).save(out, fmt)
    return out.getvalue()
