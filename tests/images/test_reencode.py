"""Decoding and encoding again with Pillow: the picture stays, the metadata and the oversized go (no app)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from kb.images.reencode import ImageRefused, reencode
from tests.images.conftest import GPS_IFD, jpeg_with_gps, other_format, png_bytes

LIMITS = {"max_pixels": 4_000_000, "max_side": 4_000}


def test_gps_and_camera_tags_are_gone_from_a_jpeg():
    source = jpeg_with_gps()
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(GPS_IFD)  # the test photo really has a position
    clean = reencode(source, **LIMITS)
    image = Image.open(io.BytesIO(clean.data))
    assert clean.content_type == "image/jpeg" and image.format == "JPEG"
    assert dict(image.getexif()) == {} and not image.getexif().get_ifd(GPS_IFD)
    assert b"Phone 12 Pro" not in clean.data and b"Exif" not in clean.data


def test_jpeg_orientation_is_applied_to_the_pixels():
    clean = reencode(jpeg_with_gps(size=(60, 40), orientation=6), **LIMITS)  # 6: rotate 90° to display
    assert (clean.width, clean.height) == (40, 60)
    assert Image.open(io.BytesIO(clean.data)).size == (40, 60)


def test_png_stays_png_without_its_text_chunks():
    clean = reencode(png_bytes(text={"Comment": "home address: 1 Secret Lane"}), **LIMITS)
    assert clean.content_type == "image/png" and clean.extension == "png"
    assert b"Secret Lane" not in clean.data
    assert Image.open(io.BytesIO(clean.data)).getpixel((1, 1)) == (20, 120, 200)


@pytest.mark.parametrize("fmt, content_type", [("GIF", "image/gif"), ("WEBP", "image/webp")])
def test_gif_and_webp_are_encoded_again(fmt, content_type):
    clean = reencode(other_format(fmt), **LIMITS)
    assert clean.content_type == content_type
    assert Image.open(io.BytesIO(clean.data)).format == fmt


@pytest.mark.parametrize("data", [
    b"",
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    b"<html><body>not an image</body></html>",
    b"PK\x03\x04 a zip file",
    png_bytes()[:40],  # cut short
    other_format("BMP"),
    other_format("TIFF"),
])
def test_anything_else_is_refused_with_400(data):
    with pytest.raises(ImageRefused) as refused:
        reencode(data, **LIMITS)
    assert refused.value.status == 400
    assert "PNG, JPEG, GIF or WebP" in refused.value.message


def test_decompression_bomb_is_refused_before_decoding():
    # 3000 x 3000 of one colour: a few KiB of PNG, 9 megapixels once decoded.
    out = io.BytesIO()
    Image.new("L", (3000, 3000)).save(out, "PNG")
    assert len(out.getvalue()) < 100_000
    with pytest.raises(ImageRefused) as refused:
        reencode(out.getvalue(), max_pixels=4_000_000, max_side=10_000)
    assert refused.value.status == 413 and "9.0 megapixels" in refused.value.message


def test_one_side_too_long_is_refused():
    with pytest.raises(ImageRefused) as refused:
        reencode(png_bytes(size=(5000, 2)), **LIMITS)
    assert refused.value.status == 413 and "5,000 × 2" in refused.value.message
