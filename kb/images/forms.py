"""The image field other features' forms include, and the form of the upload endpoint the script uses."""

from __future__ import annotations

from flask_wtf.file import FileField

from kb.forms import BaseForm
from kb.images.reencode import ACCEPT


def image_field(label: str = "Add an image (optional)") -> FileField:
    """A file input for PNG, JPEG, GIF or WebP; its Markdown is added to the text when the form is sent."""
    return FileField(label, render_kw={"accept": ACCEPT, "data-image-input": ""})


class ImageUploadForm(BaseForm):
    """What the editor's script posts: one image and the CSRF token."""

    image = image_field("Image")
