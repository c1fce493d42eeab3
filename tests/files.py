"""Real files, built in memory, for upload tests: valid ones and the attacker's."""

from __future__ import annotations

import io
import zipfile

from docx import Document


def _pdf(objects: list[bytes], catalog_extra: bytes = b"") -> bytes:
    """A well-formed PDF: objects numbered from 3 (1 is the catalog, 2 the page tree)."""
    body = [b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>"]
    body.extend(objects)
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(body, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(body) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(body) + 1, xref))
    return out.getvalue()


def _page_objects(lines: list[str], page_extra: bytes = b"") -> list[bytes]:
    """Objects 2 (pages), 3 (page), 4 (content), 5 (font)."""
    stream = b"BT /F1 12 Tf 72 720 Td 14 TL "
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream += b"(" + escaped.encode("latin-1") + b") Tj T* "
    stream += b"ET"
    return [
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> " + page_extra + b">>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]


def _with_tree(objects: list[bytes], catalog_extra: bytes = b"") -> bytes:
    # _pdf numbers the catalog 1; the page tree must be object 2.
    return _pdf(objects, catalog_extra)


def pdf_with_text(text: str = "Experienced data engineer. Python, Kafka, SQL.") -> bytes:
    return _with_tree(_page_objects(text.splitlines() or [""]))


def pdf_scan() -> bytes:
    """A PDF with a page but no text (what a scanned CV looks like to a text extractor)."""
    return _with_tree(_page_objects([]))


def pdf_with_javascript() -> bytes:
    objects = _page_objects(["Hello"])
    objects.append(b"<< /S /JavaScript /JS (app.alert\\('hi'\\)) >>")
    return _with_tree(objects, b"/Names << /JavaScript << /Names [(x) 6 0 R] >> >> ")


def pdf_with_open_action() -> bytes:
    objects = _page_objects(["Hello"])
    objects.append(b"<< /S /URI /URI (https://evil.example/) >>")
    return _with_tree(objects, b"/OpenAction 6 0 R ")


def pdf_with_launch() -> bytes:
    return _with_tree(_page_objects(["Hello"], b"/AA << /O << /S /Launch /F (calc.exe) >> >> "))


def pdf_with_hex_encoded_javascript() -> bytes:
    """/J#61vaScript is /JavaScript: names may be hex-escaped to dodge byte scanners."""
    objects = _page_objects(["Hello"])
    objects.append(b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>")
    return _with_tree(objects, b"/OpenAct#69on 6 0 R ")


def pdf_with_embedded_file() -> bytes:
    objects = _page_objects(["Hello"])
    payload = b"MZ this would be an executable"
    objects.append(b"<< /Type /EmbeddedFile /Length %d >>\nstream\n" % len(payload) + payload
                   + b"\nendstream")
    objects.append(b"<< /Type /Filespec /F (a.exe) /EF << /F 6 0 R >> >>")
    return _with_tree(objects, b"/Names << /EmbeddedFiles << /Names [(a.exe) 7 0 R] >> >> ")


def pdf_with_pages(count: int, text: str = "page") -> bytes:
    kids = b" ".join(b"%d 0 R" % (3 + i * 2) for i in range(count))
    objects = [b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count]
    for i in range(count):
        stream = b"BT /F1 12 Tf 72 720 Td (" + f"{text} {i + 1}".encode() + b") Tj ET"
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (4 + i * 2, 3 + count * 2))
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _with_tree(objects)


def docx_with_text(text: str = "Experienced data engineer. Python, Kafka, SQL.") -> bytes:
    document = Document()
    for line in text.splitlines() or [""]:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _rezip(source: bytes, replace: dict[str, bytes] | None = None,
           add: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as old, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = (replace or {}).get(info.filename, old.read(info.filename))
            new.writestr(info.filename, data)
        for name, data in (add or {}).items():
            new.writestr(name, data)
    return out.getvalue()


def docx_zip_bomb() -> bytes:
    """Declares (and would inflate to) 200 MiB of zeros in a small archive."""
    out = io.BytesIO()
    base = docx_with_text("bomb")
    with zipfile.ZipFile(io.BytesIO(base)) as old, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info.filename))
        with new.open("word/media/zeros.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(200):
                member.write(chunk)
    return out.getvalue()


def docx_with_many_entries(count: int = 2_000) -> bytes:
    return _rezip(docx_with_text("many"), add={f"word/x/{i}.xml": b"<a/>" for i in range(count)})


def docx_nested_archive() -> bytes:
    inner = docx_with_text("inner")
    return _rezip(docx_with_text("outer"), add={"word/embeddings/inner.dat": inner})


def docx_with_macros() -> bytes:
    return _rezip(docx_with_text("macro"), add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 vba"})


def _document_xml(body: str, doctype: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body><w:p><w:r><w:t>{body}</w:t></w:r></w:p></w:body></w:document>").encode()


def docx_with_xxe(target: str = "file:///etc/passwd") -> bytes:
    xml = _document_xml("&xxe;", f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "{target}">]>')
    return _rezip(docx_with_text("x"), replace={"word/document.xml": xml})


def docx_billion_laughs() -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10))
    xml = _document_xml("&lol9;", f"<!DOCTYPE d [{entities}]>")
    return _rezip(docx_with_text("x"), replace={"word/document.xml": xml})


def zip_named_pdf() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a cv")
    return out.getvalue()


def html_named_pdf() -> bytes:
    return b"<!doctype html><html><script>alert(1)</script></html>"


def png_named_pdf() -> bytes:
    return (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
            b"\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00"
            b"\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
