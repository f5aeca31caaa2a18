"""Small, valid PDF files: the document an envelope gets when it names none, and certificates.

DocuSign cannot send an envelope without a document, and a listener that
stores what Connect includes expects PDF bytes (``%PDF-``, objects, a
cross-reference table, ``%%EOF``).  :func:`text_pdf` writes a one-page PDF
1.4 whose page shows a few lines of text in Helvetica, with the byte offsets
of its cross-reference table computed, so that any PDF reader opens it.  The
same lines give the same bytes: no date, no random file identifier.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["text_pdf"]

#: PDF's special characters in a literal string, and how to escape them.
_ESCAPES = str.maketrans({"\\": "\\\\", "(": "\\(", ")": "\\)"})


def _literal(line: str) -> str:
    # The standard Helvetica font encodes Latin-1 at most; anything else shows as '?'.
    text = line.encode("latin-1", "replace").decode("latin-1")
    return "(" + text.translate(_ESCAPES) + ")"


def text_pdf(lines: Sequence[str]) -> bytes:
    """A one-page PDF showing ``lines`` of text, top to bottom.

    >>> pdf = text_pdf(["Hello"])
    >>> pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    True
    """
    shown = [f"{_literal(line)} Tj T*" for line in lines]
    stream = "BT /F1 12 Tf 14 TL 72 720 Td " + " ".join(shown) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    table = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode("ascii")
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{table}\n%%EOF\n"
    ).encode("ascii")
    return bytes(out)
