"""QR codes of the join URL (and of private links), as PNG, SVG or terminal text.

Made once when the hub starts; the stage page and `/qr.png` show the same code.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _code(url: str, box_size: int = 10) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_png(url: str) -> bytes:
    """A black-on-white PNG of `url`."""
    buf = io.BytesIO()
    _code(url).make_image(fill_color="black", back_color="white").save(buf)
    return buf.getvalue()


def qr_svg(url: str) -> bytes:
    """A scalable SVG of `url` (one path), for the projector."""
    buf = io.BytesIO()
    _code(url).make_image(image_factory=qrcode.image.svg.SvgPathFillImage).save(buf)
    return buf.getvalue()


def qr_matrix(url: str) -> list[list[bool]]:
    """The module matrix (with border), to compare a decoded image against."""
    return [list(row) for row in _code(url, box_size=1).get_matrix()]


def qr_terminal(url: str) -> str:
    """The code drawn with half-block characters, for `finale judges` / `finale finalists`."""
    out = io.StringIO()
    _code(url, box_size=1).print_ascii(out=out, invert=True)
    return out.getvalue()
