"""Decode an uploaded image and encode it again, so only its pixels reach the site.

A photo from a phone carries EXIF (GPS position, camera serial, time), PNG text chunks can carry
anything, and a crafted file can aim at a decoder's weak spots. Decoding with Pillow and writing a
fresh file of the same format keeps the picture and drops the rest: no EXIF, XMP, comments or text
chunks; JPEG orientation is applied to the pixels instead. Only the colour profile stays, so colours
look the same. The pixel count is checked from the header, before any pixel is decoded, which is
what stops a decompression bomb (a few KiB that would expand into gigabytes).

Plain functions on bytes: no Flask, no database.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow format name -> (content type, file extension). Nothing else is accepted: no SVG (script),
# no TIFF, BMP or ICO (rarely needed, more decoder surface).
FORMATS: dict[str, tuple[str, str]] = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
ACCEPT = ",".join(content_type for content_type, _ in FORMATS.values())
_JPEG_MODES = {"RGB", "L", "CMYK"}


class ImageRefused(ValueError):
    """An upload that is not an image the site takes, with the reason for the uploader and an HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class CleanImage:
    """A re-encoded image, ready to store."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f} megapixels"


def reencode(data: bytes, *, max_pixels: int, max_side: int) -> CleanImage:
    """The image in ``data`` written again without metadata; ImageRefused when it is not one we take."""
    if not data:
        raise ImageRefused("The file is empty. Choose a PNG, JPEG, GIF or WebP image.")
    try:
        # formats=: only these decoders ever look at the bytes; the header alone gives the size. Pillow's
        # own bomb warning is silenced: the limits below are the site's, and they are checked next.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        with image:
            width, height = image.size
            if width > max_side or height > max_side:
                raise ImageRefused(f"The image is {width:,} × {height:,} pixels; each side may be at most "
                                   f"{max_side:,}. Scale it down and try again.", 413)
            if width * height > max_pixels:
                raise ImageRefused(f"The image has {_megapixels(width * height)}; the limit is "
                                   f"{_megapixels(max_pixels)}. Scale it down and try again.", 413)
            source_format = image.format
            image.seek(0)  # an animated GIF or WebP keeps its first frame
            image.load()
            icc_profile = image.info.get("icc_profile")
            clean = _pixels_only(image, source_format)
    except ImageRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError, EOFError):
        raise ImageRefused("The file is not a PNG, JPEG, GIF or WebP image (or it is damaged). "
                           "Only images can be added to the text; attach other files to a support case.") from None
    content_type, extension = FORMATS[source_format]
    out = io.BytesIO()
    options: dict = {"icc_profile": icc_profile} if icc_profile and source_format != "GIF" else {}
    if source_format == "JPEG":
        clean.save(out, "JPEG", quality=90, **options)
    elif source_format == "WEBP":
        clean.save(out, "WEBP", quality=90, method=0, **options)  # method 0: the fastest encoder, files a little larger
    elif source_format == "PNG":
        clean.save(out, "PNG", optimize=False, **options)
    else:
        clean.save(out, "GIF")
    return CleanImage(out.getvalue(), content_type, extension, clean.width, clean.height)


def _pixels_only(image: Image.Image, source_format: str) -> Image.Image:
    """A new image holding only the pixels (and palette) of ``image``, upright, in a mode its format can write."""
    if source_format == "JPEG":
        image = ImageOps.exif_transpose(image)  # the orientation tag goes; the picture stays the right way up
        if image.mode not in _JPEG_MODES:
            image = image.convert("RGB")
    elif source_format == "WEBP" and image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA")
    clean = image.copy()
    clean.info = {"transparency": image.info["transparency"]} if "transparency" in image.info else {}
    return clean
