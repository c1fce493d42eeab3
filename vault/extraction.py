"""Inspection and text extraction of PDF and DOCX files, as an attacker would craft them.

This module does the parsing; it runs only inside the sandboxed child process
(vault/sandbox.py), never in a web worker: a parser bug or a decompression bomb costs
that child, which has hard limits on memory, CPU and wall time. It imports nothing of
Flask, the database or the crypto layer, so the child holds no key and no session.

Only PDF and DOCX pass, and only without active content: a CV is read by recruiters, so
anything that could run, open another file or call a server from their viewer is
refused, not cleaned. Navigation inside the document and plain web links stay: every
LibreOffice export opens on a page, and CVs link to profiles.
"""

from __future__ import annotations

import io
import re
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_TEXT_CHARS = 200_000
# DOCX (zip) bounds, checked on the central directory before anything is inflated.
MAX_ZIP_ENTRIES = 1_000
MAX_ZIP_TOTAL = 100 * 1024 * 1024
MAX_ZIP_RATIO = 100  # a text-heavy document compresses ~10:1; bombs go to 1000:1
MAX_XML_PART = 20 * 1024 * 1024
MAX_PDF_OBJECTS = 200_000
# Decompressed bytes the PDF parser may produce, per stream and for the whole file. A
# CV page's content stream is tens of KiB; an 18 MB stream is a bomb (review finding:
# a 53 KB file holding one took 26 s and 370 MB before). Images are never inflated here.
MAX_PDF_STREAM_BYTES = 4 * 1024 * 1024
MAX_PDF_INFLATED_TOTAL = 8 * 1024 * 1024
# Content-stream operators pypdf may parse per stream (its own default is 2 000 000).
MAX_PDF_PARSE_WORK = 1_000_000
ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"7z\xbc\xaf", b"Rar!", b"\x1f\x8b", b"MSCF",
                 b"\xd0\xcf\x11\xe0")  # zip, empty zip, 7z, rar, gzip, cab, OLE (macros)
ARCHIVE_SUFFIXES = (".zip", ".docx", ".docm", ".xlsx", ".xlsm", ".pptx", ".jar", ".7z",
                    ".rar", ".gz", ".cab", ".bin", ".odt")
MACRO_CONTENT_TYPES = ("macroEnabled", "vbaProject", "activeX")

# PDF: keys that hold scripts, attachments or forms that run; refused wherever they are.
PDF_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/Launch", "/EmbeddedFiles",
                             "/EmbeddedFile", "/EF", "/RichMedia", "/XFA"})
# Values of /S, /Subtype or /Type that are actions or annotations doing more than showing.
PDF_ACTIVE_VALUES = frozenset({"/JavaScript", "/Launch", "/EmbeddedFile", "/FileAttachment",
                               "/RichMedia", "/ImportData", "/SubmitForm", "/GoToE", "/GoToR",
                               "/Sound", "/Movie", "/Rendition", "/Screen", "/ResetForm",
                               "/Hide", "/SetOCGState", "/GoTo3DView"})
# Actions allowed where an action may stand: moving inside this document, or a web link.
PDF_SAFE_ACTIONS = frozenset({"/GoTo", "/URI", "/Named"})
PDF_SAFE_NAMED = frozenset({"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"})
# A /URI may open a web page or write a mail; file:, smb: or a UNC path would open (and
# authenticate to) another machine's files, so only these schemes pass.
SAFE_URI = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)
# Word records the template a CV was made from as an external relationship to the
# author's own disk (file:///C:/Users/…/Templates/CV.dotx): on another machine that
# names that machine's own disk and fetches nothing. A template on a server (http:,
# \\host\share, file://host/) is fetched on opening: refused.
LOCAL_TEMPLATE = re.compile(r"^(?:file:///)?[A-Za-z]:[\\/]", re.IGNORECASE)
ACTION_KEYS = ("/A", "/OpenAction")  # (an outline item's /Next is its sibling)

NS_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
NS_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
W = f"{{{NS_W}}}"
MC = f"{{{NS_MC}}}"
REL = f"{{{NS_REL}}}"
# Relationship types (last path segment) that pull in content from elsewhere or run it.
DOCX_ACTIVE_RELATIONSHIPS = frozenset({"aFChunk", "oleObject", "package", "control",
                                       "activeXControlBinary", "vbaProject", "subDocument",
                                       "attachedTemplate", "frame", "embeddings"})
# Elements of WordprocessingML that embed other programs' objects or whole files.
DOCX_ACTIVE_ELEMENTS = frozenset({f"{W}altChunk", f"{W}object", f"{W}control", f"{W}subDoc",
                                  "{urn:schemas-microsoft-com:office:office}OLEObject"})
# Field codes that fetch a file or a remote resource when the document is opened or
# updated (and leak the reader's network credentials on a UNC path).
DOCX_ACTIVE_FIELDS = re.compile(r"^\s*(?:INCLUDETEXT|INCLUDEPICTURE|INCLUDE|LINK|DDE|DDEAUTO|"
                                r"IMPORT|HYPERLINK\s+\S*\\\\)\b", re.IGNORECASE)


class UploadRejected(Exception):
    """Why a file is refused, as a code (``"pdf_active"``); never the file's name or
    content.

    Only the code crosses the pipe from the sandboxed child: the child imports nothing of
    Flask, so the words for the code (vault/upload_reasons.py) are chosen in the web
    worker, in the language of the page that shows them."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def reason(self) -> str:
        """The words for the code in the current language (English outside a request).
        For the parent process only: the child never reads it."""
        from vault.upload_reasons import refusal_reason

        return refusal_reason(self.code)


class LimitExceeded(UploadRejected):
    """The file asks for more work than any CV needs (the parent words the reason)."""

    def __init__(self) -> None:
        super().__init__("too_heavy")


@dataclass(frozen=True)
class PdfText:
    text: str
    pages: int  # pages in the document (OCR needs it when the text is empty)
    scanned: bool  # every page looked at had no text: a scan, worth OCR


# --- text clean-up -----------------------------------------------------------------

LIGATURES = {chr(c): unicodedata.normalize("NFKC", chr(c)) for c in range(0xFB00, 0xFB07)}
# A word split at a line end: "ingeni-\neur" is one word. Only when the next line goes
# on in lower case: "Jean-\nPierre" or "Python-\nKafka" keep their hyphen.
HYPHEN_BREAK = re.compile(r"(\w)[-\u2010\u00ad][ \t]*\r?\n[ \t]*(?=[a-zß-öø-ÿ])")
SOFT_HYPHEN = "\u00ad"


def clean_pdf_text(text: str) -> str:
    for ligature, letters in LIGATURES.items():
        text = text.replace(ligature, letters)
    text = HYPHEN_BREAK.sub(r"\1", text)
    return text.replace(SOFT_HYPHEN, "")


# --- PDF ---------------------------------------------------------------------------

def inspect_pdf(content: bytes, *, max_pages: int, time_budget_s: float) -> PdfText:
    """Refuse active content, then read the text of the first pages within the budget."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError

    try:
        with _pdf_limits():
            reader = PdfReader(io.BytesIO(content), strict=False)
            if reader.is_encrypted:
                raise UploadRejected("pdf_encrypted")
            _refuse_active_pdf(reader.trailer)
            return _pdf_text(reader, max_pages=max_pages, time_budget_s=time_budget_s)
    except UploadRejected:
        raise
    except LimitReachedError:
        # A stream past MAX_PDF_STREAM_BYTES or MAX_PDF_PARSE_WORK: a bomb, or a page
        # no CV has.
        raise LimitExceeded from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError):
        # pypdf raises many kinds on malformed files; all mean "not a PDF we accept".
        raise UploadRejected("pdf_damaged") from None


@contextmanager
def _pdf_limits() -> Iterator[None]:
    """pypdf's own limits hold per stream; a count of every byte it inflates holds for
    the whole file (a thousand streams just under the limit are a bomb too)."""
    from pypdf import filters
    from pypdf._configuration import apply_configuration

    original = filters.decode_stream_data
    inflated = 0

    def counted(stream):  # type: ignore[no-untyped-def]
        nonlocal inflated
        data = original(stream)
        inflated += len(data)
        if inflated > MAX_PDF_INFLATED_TOTAL:
            raise LimitExceeded
        return data

    # pypdf looks the function up in its module on each call, so this covers every
    # stream it decodes (object streams, content streams, forms).
    filters.decode_stream_data = counted
    try:
        with apply_configuration(
            maximum_declared_stream_length=MAX_PDF_STREAM_BYTES,
            zlib_maximum_output_length=MAX_PDF_STREAM_BYTES,
            lzw_maximum_output_length=MAX_PDF_STREAM_BYTES,
            run_length_maximum_output_length=MAX_PDF_STREAM_BYTES,
            brotli_maximum_output_length=MAX_PDF_STREAM_BYTES,
            array_based_stream_maximum_output_length=MAX_PDF_STREAM_BYTES,
            stream_parsing_work_maximum_count=MAX_PDF_PARSE_WORK,
        ):
            yield
    finally:
        filters.decode_stream_data = original


def _refuse_active_pdf(trailer) -> None:  # type: ignore[no-untyped-def]
    """Walk every object reachable from the trailer (object streams included)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    seen: set[tuple[int, int]] = set()
    stack: list[object] = [trailer]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            item = item.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise UploadRejected("pdf_too_complex")
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                if key in PDF_ACTIVE_KEYS:
                    raise UploadRejected("pdf_active")
                if key in ("/S", "/Subtype", "/Type") and str(value) in PDF_ACTIVE_VALUES:
                    raise UploadRejected("pdf_active")
                if key in ACTION_KEYS:
                    # A web link only where a reader clicks it (a link's /A); what runs by
                    # itself on opening (/OpenAction, /AA) may only navigate.
                    _check_action(value.get_object() if value is not None else None,
                                  clicked=key == "/A")
                elif key == "/AA":
                    triggers = value.get_object()
                    if isinstance(triggers, DictionaryObject):
                        for action in triggers.values():
                            _check_action(action.get_object(), clicked=False)
                if key != "/Parent":
                    stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)


def _check_action(action: object, *, clicked: bool) -> None:
    """An action (or /OpenAction's bare destination) passes only if it stays inside
    this document, or, when the reader clicks it, opens a web link."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

    if action is None or isinstance(action, (ArrayObject, NameObject, TextStringObject,
                                             bytes, str)):
        return  # a destination: a page and a view (/XYZ, /Fit…), or a named one
    if not isinstance(action, DictionaryObject):
        raise UploadRejected("pdf_active")
    chained = action.get("/Next")  # actions run after this one, same rules
    chained = chained.get_object() if chained is not None else None
    for follower in chained if isinstance(chained, ArrayObject) else [chained]:
        if follower is not None:
            _check_action(follower.get_object(), clicked=clicked)
    kind = str(action.get("/S", ""))
    if kind not in PDF_SAFE_ACTIONS or (kind == "/URI" and not clicked):
        raise UploadRejected("pdf_active")
    if kind == "/URI":
        target = action.get("/URI")
        target = target.get_object() if target is not None else ""
        if not SAFE_URI.match(str(target)):
            raise UploadRejected("pdf_unsafe_link")
    elif kind == "/Named" and str(action.get("/N", "")) not in PDF_SAFE_NAMED:
        raise UploadRejected("pdf_active")
    elif kind == "/GoTo":
        destination = action.get("/D")
        destination = destination.get_object() if destination is not None else None
        if isinstance(destination, DictionaryObject):  # a structure destination: odd
            raise UploadRejected("pdf_active")


def _pdf_text(reader, *, max_pages: int, time_budget_s: float) -> PdfText:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    parts: list[str] = []
    total = 0
    pages = len(reader.pages)
    read = 0
    for index, page in enumerate(reader.pages):
        if index >= max_pages or time.monotonic() - started > time_budget_s:
            break
        text = page.extract_text() or ""
        read += 1
        parts.append(text)
        total += len(text)
        if total >= MAX_TEXT_CHARS:
            break
    text = clean_pdf_text("\n".join(parts))[:MAX_TEXT_CHARS]
    # Out of time before any page was read is not a scan: no OCR for it.
    return PdfText(text=text, pages=pages, scanned=read > 0 and not text.strip())


# --- DOCX --------------------------------------------------------------------------

def inspect_docx(content: bytes) -> str:
    """Refuse bombs and active content in every part, then read the text."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UploadRejected("docx_damaged") from None
    with archive:
        infos = archive.infolist()
        _check_directory(infos)
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names or "word/document.xml" not in names:
            raise UploadRejected("not_pdf_or_docx")
        try:
            sniffed = _refuse_nested(archive, infos)
            parts = _parse_all_xml(archive, infos, sniffed)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
            if isinstance(exc, UploadRejected):
                raise
            raise UploadRejected("docx_damaged") from None
    _refuse_active_docx(parts)
    return DocxReader(parts).text()


def _check_directory(infos: list[zipfile.ZipInfo]) -> None:
    """Zip-bomb defence from the central directory alone, before inflating a byte."""
    if len(infos) > MAX_ZIP_ENTRIES:
        raise UploadRejected("docx_too_many_parts")
    if sum(info.file_size for info in infos) > MAX_ZIP_TOTAL:
        raise UploadRejected("docx_too_large")
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.split("/") or "\\" in name:
            raise UploadRejected("docx_unsafe_paths")
        if info.flag_bits & 0x1:
            raise UploadRejected("docx_encrypted")
        if info.file_size > 1024 * 1024 and info.file_size > MAX_ZIP_RATIO * max(
                info.compress_size, 1):
            raise UploadRejected("docx_too_large")
        if name.lower().endswith(ARCHIVE_SUFFIXES) or "vbaproject" in name.lower():
            raise UploadRejected("docx_archives")


def _refuse_nested(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> set[str]:
    """Refuse archives inside the archive; return the names of the parts that are XML
    by their first bytes, whatever their names say."""
    xml_parts = set()
    for info in infos:
        if info.is_dir():
            continue
        with archive.open(info) as member:
            head = member.read(64)
        if head.startswith(ARCHIVE_MAGIC):
            raise UploadRejected("docx_archives")
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head.removeprefix(
                b"\xef\xbb\xbf").lstrip().startswith(b"<"):
            xml_parts.add(info.filename)
    return xml_parts


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > MAX_XML_PART:
        raise UploadRejected("docx_too_large")
    with archive.open(info) as member:
        data = member.read(info.file_size + 1)
    # A directory can lie about sizes; never trust it past what it declared.
    if len(data) > info.file_size:
        raise UploadRejected("docx_too_large")
    return data


def _parse_all_xml(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo],
                   sniffed: set[str]) -> dict[str, Element]:
    """Every XML part is parsed, not only the body: Word reads settings, relationships
    and headers too, and a DTD or an external reference in any of them is reached. A
    part is XML by its name or by its bytes (a relationship may point at settings.dat)."""
    parts: dict[str, Element] = {}
    for info in infos:
        if info.is_dir() or not (info.filename.lower().endswith((".xml", ".rels"))
                                 or info.filename in sniffed):
            continue
        parts[info.filename] = _parse_xml(_read_bounded(archive, info))
    return parts


def _parse_xml(data: bytes) -> Element:
    try:
        # No DTDs at all: no external entities, no entity expansion (billion laughs).
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError):
        raise UploadRejected("docx_bad_xml") from None


def _refuse_active_docx(parts: dict[str, Element]) -> None:
    types = parts.get("[Content_Types].xml")
    if types is None:
        raise UploadRejected("not_pdf_or_docx")
    if any(marker in (el.get("ContentType") or "") or marker in (el.get("PartName") or "")
           for el in types.iter() for marker in MACRO_CONTENT_TYPES):
        raise UploadRejected("docx_macros")
    for name, root in parts.items():
        if name.endswith(".rels"):
            _check_relationships(root)
            continue
        for element in root.iter():
            if element.tag in DOCX_ACTIVE_ELEMENTS:
                raise UploadRejected("docx_embedded")
            if element.tag == f"{W}instrText" and DOCX_ACTIVE_FIELDS.match(element.text or ""):
                raise UploadRejected("docx_fetch_fields")
            if element.tag == f"{W}fldSimple" and DOCX_ACTIVE_FIELDS.match(
                    element.get(f"{W}instr") or ""):
                raise UploadRejected("docx_fetch_fields")


def _check_relationships(root: Element) -> None:
    for rel in root.iter(f"{REL}Relationship"):
        kind = (rel.get("Type") or "").rsplit("/", 1)[-1]
        if kind == "attachedTemplate" and LOCAL_TEMPLATE.match(rel.get("Target") or ""):
            continue
        if kind in DOCX_ACTIVE_RELATIONSHIPS:
            raise UploadRejected("docx_external_parts")
        if (rel.get("TargetMode") or "").lower() == "external":
            # A hyperlink is only followed when clicked; any other external target
            # (an image, a template, a frame) is fetched on opening.
            if kind != "hyperlink" or not SAFE_URI.match(rel.get("Target") or ""):
                raise UploadRejected("docx_remote_content")


class DocxReader:
    """The text of a document in reading order: headers, body, footnotes, endnotes,
    footers. Paragraphs and table cells end in a line break, so their words never run
    together; a text box is read once, after the paragraph that anchors it."""

    def __init__(self, parts: dict[str, Element]) -> None:
        self.parts = parts
        self.total = 0

    def text(self) -> str:
        blocks: list[str] = []
        seen: set[str] = set()
        for part in self._ordered_parts():
            for paragraph in self._blocks(part):
                if part.startswith(("word/header", "word/footer")):
                    # The same header is often repeated per section and per first/odd/
                    # even page: read its text once.
                    if paragraph in seen:
                        continue
                    seen.add(paragraph)
                blocks.append(paragraph)
                self.total += len(paragraph) + 1
                if self.total >= MAX_TEXT_CHARS:
                    return "\n".join(blocks)[:MAX_TEXT_CHARS]
        return "\n".join(blocks)[:MAX_TEXT_CHARS]

    def _ordered_parts(self) -> list[str]:
        targets = self._document_targets()
        headers = sorted(t for t in targets if t.startswith("word/header"))
        footers = sorted(t for t in targets if t.startswith("word/footer"))
        notes = [t for t in ("word/footnotes.xml", "word/endnotes.xml") if t in targets]
        return [*headers, "word/document.xml", *notes, *footers]

    def _document_targets(self) -> set[str]:
        rels = self.parts.get("word/_rels/document.xml.rels")
        if rels is None:
            return set()
        targets = set()
        for rel in rels.iter(f"{REL}Relationship"):
            target = (rel.get("Target") or "").lstrip("/")
            target = target if target.startswith("word/") else f"word/{target}"
            if target in self.parts:
                targets.add(target)
        return targets

    def _blocks(self, part: str) -> Iterator[str]:
        root = self.parts.get(part)
        if root is None:
            return
        body = root.find(f"{W}body")
        container = body if body is not None else root
        yield from self._block_children(container)

    def _block_children(self, container: Element) -> Iterator[str]:
        for child in container:
            tag = child.tag
            if tag == f"{W}p":
                yield from self._paragraph(child)
            elif tag in (f"{W}tbl", f"{W}tr", f"{W}tc", f"{W}sdt", f"{W}sdtContent",
                         f"{W}customXml", f"{W}footnote", f"{W}endnote", f"{W}txbxContent",
                         f"{W}ins", f"{W}smartTag"):
                yield from self._block_children(child)
            elif tag == f"{MC}AlternateContent":
                yield from self._block_children(_one_alternative(child))

    def _paragraph(self, paragraph: Element) -> Iterator[str]:
        pieces: list[str] = []
        boxes: list[Element] = []
        self._inline(paragraph, pieces, boxes)
        line = "".join(pieces)
        if line.strip():
            yield line
        for box in boxes:
            yield from self._block_children(box)

    def _inline(self, element: Element, pieces: list[str], boxes: list[Element]) -> None:
        for node in element:
            tag = node.tag
            if tag == f"{W}t":
                pieces.append(node.text or "")
            elif tag == f"{W}tab":
                pieces.append("\t")
            elif tag in (f"{W}br", f"{W}cr"):
                pieces.append("\n")
            elif tag == f"{W}noBreakHyphen":
                pieces.append("-")
            elif tag in (f"{W}del", f"{W}moveFrom", f"{W}instrText", f"{W}delText",
                         f"{W}pPr", f"{W}rPr"):
                continue  # deleted text, field codes and formatting are not text
            elif tag == f"{W}txbxContent":
                boxes.append(node)  # read after the anchoring paragraph, once
            elif tag == f"{MC}AlternateContent":
                self._inline(_one_alternative(node), pieces, boxes)
            else:  # runs, hyperlinks, content controls, drawings, insertions, fields
                self._inline(node, pieces, boxes)


def _one_alternative(alternate: Element) -> Element:
    """mc:AlternateContent holds the same content twice (a modern mc:Choice and an old
    mc:Fallback): read the first choice only, or the fallback when there is no choice."""
    choice = alternate.find(f"{MC}Choice")
    if choice is not None:
        return choice
    fallback = alternate.find(f"{MC}Fallback")
    return fallback if fallback is not None else Element("empty")
