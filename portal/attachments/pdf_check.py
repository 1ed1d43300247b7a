"""An uploaded PDF is kept as sent, and only if nothing in it can run or carry content.

Staff open these files on office computers. Rather than trust a check that starts from the
catalog (a file-attachment annotation on a page, a 3D annotation's script, an object nobody
references or one the cross-reference table leaves out all escaped it), every object the file
holds is read and refused on any name of an action, a script, a media player or an embedded
file, and on any link that is not a web address.
"""

from __future__ import annotations

import io
import re
from typing import cast

from pypdf import Configuration, PdfReader, apply_configuration
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
    TextStringObject,
    read_object,
)

from portal.attachments.outcome import Processed, UploadRejected

PDF_ACTIVE_NAMES = frozenset(
    {
        "/JavaScript",
        "/JS",
        "/Launch",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/EF",
        "/RF",
        "/FileAttachment",
        "/OpenAction",
        "/AA",
        "/SubmitForm",
        "/ImportData",
        "/GoToR",
        "/GoToE",
        "/XFA",
        "/Movie",
        "/Sound",
        "/Rendition",
    }
)
"""A PDF that can run code, act on its own (on opening, on a page or field event), send a form,
open another document, play media or carry other files is refused: staff open these files.
Matched on names as pypdf decodes them (``/J#61vaScript`` is ``/JavaScript``), as keys and as
values (``/S /Launch``, ``/Subtype /FileAttachment``). Names that start with ``/3D`` (3D
artwork and its scripts) or ``/RichMedia`` (Flash, video) are refused as well, and
``/Subtype /Screen`` (a media player annotation; ``/Screen`` elsewhere is a blend mode)."""
PDF_ACTIVE_PREFIXES = ("/3D", "/RichMedia")
PDF_LINK_SCHEMES = ("http://", "https://")
"""A plain web link (``/URI`` on click) is allowed: official letters carry them, and a click
is the reader's choice, as in an e-mail. Any other scheme (``javascript:``, ``file:``,
``data:``, a bare path a reader would open locally) is refused."""
PDF_MAX_OBJECTS = 200_000
"""More values than this (every number, name and string counts) is a file built to keep the
check busy, not a citizen's document."""
PDF_MAX_INDIRECT = 50_000
"""Indirect objects in the cross-reference table: a 1000-page letter has a few thousand; the
parsed objects cost memory (about a kilobyte each)."""
PDF_MAX_INFLATED = 16 * 1024 * 1024
"""What one compressed stream may inflate to while it is read (pypdf allows 75 MB)."""
_PDF_LIMITS = Configuration().with_overwrites(
    zlib_maximum_output_length=PDF_MAX_INFLATED,
    lzw_maximum_output_length=PDF_MAX_INFLATED,
    run_length_maximum_output_length=PDF_MAX_INFLATED,
    brotli_maximum_output_length=PDF_MAX_INFLATED,
    array_based_stream_maximum_output_length=PDF_MAX_INFLATED,
    maximum_declared_stream_length=PDF_MAX_INFLATED,
)
_PDF_OBJECT_HEADER = re.compile(  # "N G obj" and the blanks after it
    rb"(?<![0-9])[0-9]{1,10}[ \t\r\n\f\x00]+[0-9]{1,5}[ \t\r\n\f\x00]+obj[ \t\r\n\f\x00]*"
)


def checked_pdf(data: bytes) -> Processed:
    """A PDF that pypdf opens and finds pages in, with no active content in any object."""
    reader: PdfReader | None = None
    try:
        with apply_configuration(_PDF_LIMITS):
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                # Encrypted for reading: nothing inside can be checked (an owner password that
                # only restricts printing opens with the empty user password and is checked).
                raise UploadRejected("corrupt")
            if len(reader.pages) < 1:
                raise UploadRejected("corrupt")
            _PdfWalk(reader).check(data)
    except UploadRejected:
        raise
    except Exception as error:  # pypdf fails on bad files in many ways
        raise UploadRejected("corrupt") from error
    finally:
        if reader is not None:
            _release(reader)
    return Processed("application/pdf", "pdf", data, None)


def _release(reader: PdfReader) -> None:
    """Every parsed object points back at its reader (a reference cycle): emptied here, the
    objects go when the check ends, not when the garbage collector next runs."""
    reader.resolved_objects.clear()
    reader.flattened_pages = None
    reader.xref.clear()
    reader.xref_objStm.clear()


class _PdfWalk:
    """Every object of the file, each once: those reachable from the trailer, every entry of
    the cross-reference table (including objects kept in compressed object streams, used or
    not), and every ``N G obj`` the bytes hold that the table does not name (an object a
    reader repairing the file would find). A referenced object that cannot be read refuses
    the file (``corrupt``): what cannot be parsed cannot be checked."""

    def __init__(self, reader: PdfReader) -> None:
        self.reader = reader
        self.seen: set[tuple[int, int]] = set()
        self.visited = 0

    def check(self, data: bytes) -> None:
        reader = self.reader
        in_table = sum(len(entries) for entries in reader.xref.values()) + len(reader.xref_objStm)
        if in_table > PDF_MAX_INDIRECT:
            raise UploadRejected("corrupt")
        self.walk(reader.trailer)
        for generation, entries in list(reader.xref.items()):
            for number in list(entries):
                self.walk(IndirectObject(number, generation, reader))
        for number in list(reader.xref_objStm):
            self.walk(IndirectObject(number, 0, reader))
        for found in _PDF_OBJECT_HEADER.finditer(data):
            for stray in self._stray_objects(found.end()):
                self.walk(stray)

    def _stray_objects(self, offset: int) -> list[PdfObject]:
        """The object whose header ends at ``offset`` in the raw bytes, and the objects inside
        it if it is an object stream; nothing where the header was a false match (inside
        binary stream data)."""
        stream = self.reader.stream
        try:
            stream.seek(offset)
            found = read_object(stream, self.reader)
        except Exception:  # bytes that only looked like a header
            return []
        if not (isinstance(found, StreamObject) and found.get("/Type") == "/ObjStm"):
            return [found]
        inner: list[PdfObject] = [found]
        try:
            content = found.get_data()
            first = int(cast(int, found["/First"]))
            numbers = content[:first].split()
            for index in range(1, len(numbers), 2):
                part = io.BytesIO(content)
                part.seek(first + int(numbers[index]))
                inner.append(read_object(part, self.reader))
        except UploadRejected:
            raise
        except Exception as error:
            raise UploadRejected("corrupt") from error
        return inner

    def walk(self, start: PdfObject) -> None:
        todo: list[PdfObject] = [start]
        while todo:
            self.visited += 1
            if self.visited > PDF_MAX_OBJECTS:
                raise UploadRejected("corrupt")
            item = todo.pop()
            if isinstance(item, IndirectObject):
                ref = (item.idnum, item.generation)
                if ref in self.seen:
                    continue
                self.seen.add(ref)
                resolved = item.get_object()
                if resolved is not None:
                    todo.append(resolved)
            elif isinstance(item, DictionaryObject):
                # dict's own items: the raw values, references not yet resolved.
                for name, value in dict.items(item):
                    _refuse_active_name(str(name))
                    if name in ("/Subtype", "/S") and value == "/Screen":
                        raise UploadRejected("pdf_active")
                    if name == "/URI":
                        self._refuse_other_links(value)
                    todo.append(value)
            elif isinstance(item, ArrayObject):
                todo.extend(list.__iter__(item))
            elif isinstance(item, NameObject):
                _refuse_active_name(str(item))

    def _refuse_other_links(self, value: PdfObject) -> None:
        target = value.get_object() if isinstance(value, IndirectObject) else value
        if isinstance(target, DictionaryObject):
            return  # the catalog's URI dictionary (its /Base); links are checked one by one
        if not isinstance(target, (TextStringObject, ByteStringObject)):
            raise UploadRejected("pdf_active")
        text = (
            str(target) if isinstance(target, TextStringObject) else bytes(target).decode("latin-1")
        )
        link = text.strip().lower()
        if not link.startswith(PDF_LINK_SCHEMES):
            raise UploadRejected("pdf_active")


def _refuse_active_name(name: str) -> None:
    if name in PDF_ACTIVE_NAMES or name.startswith(PDF_ACTIVE_PREFIXES):
        raise UploadRejected("pdf_active")
