"""The join QR code as text: scannable from a projector or a terminal screenshot."""

from __future__ import annotations

import io

import qrcode


def qr_text(url: str) -> str:
    """qrcode's half-block ASCII rendering of `url` (dark modules on a light quiet zone)."""
    code = qrcode.QRCode(border=1, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(url)
    code.make(fit=True)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue().rstrip("\n")
