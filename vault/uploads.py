"""CV uploads, inspected as an attacker would craft them.

The type is decided from the bytes alone: a name or a Content-Type is whatever the
sender typed. Only PDF and DOCX pass, and only without active content: a CV is read
by recruiters, so anything that could run in their viewer is refused, not cleaned.
"""

from __future__ import annotations

import io
import time
import unicodedata
import zipfile
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, PdfObject

from vault.services.candidates import DocumentInput

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXTENSIONS = {PDF: "pdf", DOCX: "docx"}

MAX_TEXT_CHARS = 200_000
# DOCX (zip) bounds, checked on the central directory before anything is inflated.
MAX_ZIP_ENTRIES = 1_000
MAX_ZIP_TOTAL = 100 * 1024 * 1024
MAX_ZIP_RATIO = 100  # a text-heavy document compresses ~10:1; bombs go to 1000:1
MAX_XML_PART = 20 * 1024 * 1024
MAX_PDF_OBJECTS = 200_000
ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"7z\xbc\xaf", b"Rar!", b"\x1f\x8b", b"MSCF",
                 b"\xd0\xcf\x11\xe0")  # zip, empty zip, 7z, rar, gzip, cab, OLE (macros)
ARCHIVE_SUFFIXES = (".zip", ".docx", ".docm", ".xlsx", ".xlsm", ".pptx", ".jar", ".7z",
                    ".rar", ".gz", ".cab", ".bin", ".odt")
MACRO_CONTENT_TYPES = ("macroEnabled", "vbaProject", "activeX")

# PDF keys and action types that make a document do something when opened or clicked.
PDF_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/OpenAction", "/AA", "/Launch",
                             "/EmbeddedFiles", "/EmbeddedFile", "/EF", "/RichMedia", "/XFA"})
PDF_ACTIVE_VALUES = frozenset({"/JavaScript", "/Launch", "/EmbeddedFile", "/FileAttachment",
                               "/RichMedia", "/ImportData", "/SubmitForm", "/GoToE", "/Sound",
                               "/Movie"})

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class UploadRejected(Exception):
    """A user-facing reason; never contains the file's name or content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def safe_original_name(filename: str) -> str:
    """The original name, kept (sealed) only for the candidate's own download."""
    name = unicodedata.normalize("NFC", filename or "").strip()
    if not name:
        raise UploadRejected("the file has no name")
    if len(name) > 200:
        raise UploadRejected("the file name is too long")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise UploadRejected("the file name contains control characters")
    if "/" in name or "\\" in name or ".." in name or name.startswith("."):
        raise UploadRejected("the file name contains a path")
    if not name.lower().endswith((".pdf", ".docx")):
        raise UploadRejected("only PDF and DOCX files are accepted")
    return name


def inspect_upload(content: bytes, filename: str, *, max_pages: int = 50,
                   time_budget_s: float = 5.0) -> DocumentInput:
    name = safe_original_name(filename)
    if not content:
        raise UploadRejected("the file is empty")
    if content.startswith(b"%PDF-"):
        media_type = PDF
        text = _inspect_pdf(content, max_pages=max_pages, time_budget_s=time_budget_s)
    elif content.startswith(b"PK\x03\x04"):
        media_type = DOCX
        text = _inspect_docx(content)
    else:
        raise UploadRejected("only PDF and DOCX files are accepted")
    extension = EXTENSIONS[media_type]
    if not name.lower().endswith("." + extension):
        raise UploadRejected("the file's name does not match its content")
    return DocumentInput(content=content, filename=name, media_type=media_type,
                         extension=extension, text=text, has_text=bool(text.strip()))


# --- PDF ---------------------------------------------------------------------------

def _inspect_pdf(content: bytes, *, max_pages: int, time_budget_s: float) -> str:
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise UploadRejected("encrypted PDF files are not accepted")
        _refuse_active_pdf(reader.trailer)
        return _pdf_text(reader, max_pages=max_pages, time_budget_s=time_budget_s)
    except UploadRejected:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError):
        # pypdf raises many kinds on malformed files; all mean "not a PDF we accept".
        raise UploadRejected("the PDF file is damaged or not a PDF") from None


def _refuse_active_pdf(trailer: DictionaryObject) -> None:
    """Walk every object reachable from the trailer (object streams included)."""
    seen: set[tuple[int, int]] = set()
    stack: list[PdfObject] = [trailer]
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
            raise UploadRejected("the PDF file is too complex")
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                if key in PDF_ACTIVE_KEYS:
                    raise UploadRejected("PDF files with scripts, actions or attachments "
                                         "are not accepted")
                if key in ("/S", "/Subtype", "/Type") and str(value) in PDF_ACTIVE_VALUES:
                    raise UploadRejected("PDF files with scripts, actions or attachments "
                                         "are not accepted")
                if key != "/Parent":
                    stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)


def _pdf_text(reader: PdfReader, *, max_pages: int, time_budget_s: float) -> str:
    started = time.monotonic()
    parts: list[str] = []
    total = 0
    for index, page in enumerate(reader.pages):
        if index >= max_pages or time.monotonic() - started > time_budget_s:
            break
        text = page.extract_text() or ""
        parts.append(text)
        total += len(text)
        if total >= MAX_TEXT_CHARS:
            break
    return "\n".join(parts)[:MAX_TEXT_CHARS]


# --- DOCX --------------------------------------------------------------------------

def _inspect_docx(content: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UploadRejected("the DOCX file is damaged") from None
    with archive:
        infos = archive.infolist()
        _check_directory(infos)
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names or "word/document.xml" not in names:
            raise UploadRejected("only PDF and DOCX files are accepted")
        try:
            _refuse_nested(archive, infos)
            types = _parse_xml(_read_bounded(archive, archive.getinfo("[Content_Types].xml")))
            if any(marker in (el.get("ContentType") or "") or marker in (el.get("PartName") or "")
                   for el in types.iter() for marker in MACRO_CONTENT_TYPES):
                raise UploadRejected("documents with macros are not accepted")
            document = _parse_xml(_read_bounded(archive, archive.getinfo("word/document.xml")))
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
            if isinstance(exc, UploadRejected):
                raise
            raise UploadRejected("the DOCX file is damaged") from None
    return _docx_text(document)


def _check_directory(infos: list[zipfile.ZipInfo]) -> None:
    """Zip-bomb defence from the central directory alone, before inflating a byte."""
    if len(infos) > MAX_ZIP_ENTRIES:
        raise UploadRejected("the DOCX file has too many parts")
    if sum(info.file_size for info in infos) > MAX_ZIP_TOTAL:
        raise UploadRejected("the DOCX file unpacks to too much data")
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.split("/") or "\\" in name:
            raise UploadRejected("the DOCX file contains unsafe paths")
        if info.flag_bits & 0x1:
            raise UploadRejected("encrypted DOCX files are not accepted")
        if info.file_size > 1024 * 1024 and info.file_size > MAX_ZIP_RATIO * max(
                info.compress_size, 1):
            raise UploadRejected("the DOCX file unpacks to too much data")
        if name.lower().endswith(ARCHIVE_SUFFIXES) or "vbaproject" in name.lower():
            raise UploadRejected("DOCX files with embedded archives or macros "
                                 "are not accepted")


def _refuse_nested(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    for info in infos:
        if info.is_dir():
            continue
        with archive.open(info) as member:
            head = member.read(8)
        if head.startswith(ARCHIVE_MAGIC):
            raise UploadRejected("DOCX files with embedded archives or macros "
                                 "are not accepted")


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > MAX_XML_PART:
        raise UploadRejected("the DOCX file unpacks to too much data")
    with archive.open(info) as member:
        data = member.read(info.file_size + 1)
    # A directory can lie about sizes; never trust it past what it declared.
    if len(data) > info.file_size:
        raise UploadRejected("the DOCX file unpacks to too much data")
    return data


def _parse_xml(data: bytes) -> Element:
    try:
        # No DTDs at all: no external entities, no entity expansion (billion laughs).
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError):
        raise UploadRejected("the DOCX file contains XML we do not accept") from None


def _docx_text(document: Element) -> str:
    paragraphs: list[str] = []
    total = 0
    for paragraph in document.iter(f"{W}p"):
        pieces = []
        for node in paragraph.iter():
            if node.tag == f"{W}t" and node.text:
                pieces.append(node.text)
            elif node.tag == f"{W}tab":
                pieces.append("\t")
            elif node.tag in (f"{W}br", f"{W}cr"):
                pieces.append("\n")
        line = "".join(pieces)
        paragraphs.append(line)
        total += len(line)
        if total >= MAX_TEXT_CHARS:
            break
    return "\n".join(paragraphs)[:MAX_TEXT_CHARS]
