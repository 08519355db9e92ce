"""What a harvested feed may contain before the portal opens it: archives, XML, drop folders.

- Archives (ZIP, and XLSX, which is a ZIP of XML parts) are refused when they would expand past a
  size limit or by more than a ratio, hold too many members, nest too deep or need a password;
  the declared sizes are checked first and the real ones while reading, since a crafted archive
  can lie about them.
- Worksheets are counted while their XML streams (``walk_xml``): rows, columns and cells past
  the limits are refused before any reader (openpyxl) holds a row of a million cells.
- XML with a document type declaration (entity expansion, external entities) is refused before
  any parser that honours one sees it; so is JSON-LD that names a remote ``@context`` (the parser
  would fetch it).
- A drop folder is a directory under the folder an admin configured; a source may not name a
  path outside it, through ``..`` or a symbolic link.

Refusals raise ``Unsafe`` with a code that ``messages.py`` turns into a sentence.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import pathlib
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol
from xml.parsers import expat

MB = 1024 * 1024
MAX_RATIO = 100  # expanded size / compressed size, per member and in total
MAX_MEMBERS = 10_000
MAX_DEPTH = 3  # archives inside archives (an XLSX in a ZIP is 2)
_CHUNK = 256 * 1024


class Unsafe(Exception):
    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class ArchiveLimits:
    """How far one file's archives may expand, nested ones included."""

    max_bytes: int = 200 * MB  # all members, expanded
    max_ratio: int = MAX_RATIO
    max_members: int = MAX_MEMBERS
    max_depth: int = MAX_DEPTH


@dataclass(frozen=True)
class SheetLimits:
    """The size of a worksheet a reader may be handed. Rows and columns are counted by their
    numbers (a reader pads the gaps, and the declared dimension), cells as a reader would hold
    them: each row up to its last cell. Excel's own bounds for rows and columns: a workbook
    past them was not made by a spreadsheet."""

    max_rows: int = 1_048_576
    max_columns: int = 16_384
    max_cells: int = 5_000_000


class Expansion:
    """What one file has expanded to so far, across its nested archives."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.bytes = 0
        self.members = 0

    def add(self, size: int) -> None:
        self.bytes += size
        if self.bytes > self.limits.max_bytes:
            raise Unsafe("archive_too_large", limit=megabytes(self.limits.max_bytes))


_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError,
               NotImplementedError, KeyError, IndexError, OverflowError)


def is_zip(head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"))


class Archive:
    """A ZIP archive opened under limits: the member count, declared sizes and encryption are
    checked at once, real sizes and the expansion ratio while members are read (a crafted
    archive can lie about its sizes).

    Raises:
        Unsafe: ``archive_bad``, ``archive_depth``, ``archive_members``,
            ``archive_too_large``, ``archive_ratio`` or ``archive_encrypted``.
    """

    def __init__(self, stream: BinaryIO, expansion: Expansion, depth: int = 1) -> None:
        limits = expansion.limits
        if depth > limits.max_depth:
            raise Unsafe("archive_depth", limit=str(limits.max_depth))
        try:
            self._zip = zipfile.ZipFile(stream)
            infos = self._zip.infolist()
        except _ZIP_ERRORS:
            raise Unsafe("archive_bad") from None
        expansion.members += len(infos)
        if expansion.members > limits.max_members:
            raise Unsafe("archive_members", limit=str(limits.max_members))
        declared = sum(m.file_size for m in infos)
        if expansion.bytes + declared > limits.max_bytes:
            raise Unsafe("archive_too_large", limit=megabytes(limits.max_bytes))
        self.compressed = max(sum(m.compress_size for m in infos), 1)
        if declared > limits.max_ratio * self.compressed and declared > MB:
            raise Unsafe("archive_ratio", ratio=str(limits.max_ratio))
        if any(m.flag_bits & 0x1 for m in infos):
            raise Unsafe("archive_encrypted")
        self.members = [m for m in infos if not m.is_dir()]
        self.expansion = expansion
        self.expanded = 0

    def open(self, info: zipfile.ZipInfo) -> Member:
        return Member(self, info)

    def count(self, size: int) -> None:
        self.expanded += size
        self.expansion.add(size)
        ratio = self.expansion.limits.max_ratio
        if self.expanded > ratio * self.compressed and self.expanded > MB:
            raise Unsafe("archive_ratio", ratio=str(ratio))


class Member:
    """A member's bytes as they are expanded, counted against the archive's limits."""

    def __init__(self, archive: Archive, info: zipfile.ZipInfo) -> None:
        self.archive = archive
        try:
            self._raw = archive._zip.open(info)
        except RuntimeError:  # a password is needed
            raise Unsafe("archive_encrypted") from None
        except _ZIP_ERRORS:
            raise Unsafe("archive_bad") from None

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._raw.read(size if size is not None and 0 < size <= _CHUNK else _CHUNK)
        except RuntimeError:
            raise Unsafe("archive_encrypted") from None
        except _ZIP_ERRORS:
            raise Unsafe("archive_bad") from None
        self.archive.count(len(data))
        return data

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> Member:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Prefixed:
    """A stream whose first bytes were read already (to tell what it is)."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self.head = head
        self.rest = rest

    def read(self, size: int = -1) -> bytes:
        if self.head:
            head, self.head = self.head, b""
            return head
        return self.rest.read(size)


def check_archive(data: bytes, max_bytes: int, max_ratio: int = MAX_RATIO,
                  max_members: int = MAX_MEMBERS,
                  sheets: SheetLimits | None = None) -> None:
    """Refuse a ZIP archive that is a decompression bomb (or not a readable archive at all),
    and an XLSX whose sheets are past their limits (a cell bomb: a reader would hold every
    cell of a row of a million).

    Every member is read through (nothing is written anywhere), so that sizes the archive
    declares falsely are caught too; XML members are parsed as they stream, with no entity
    declarations, and worksheets counted.

    Raises:
        Unsafe: ``archive_bad``, ``archive_members``, ``archive_too_large``,
            ``archive_ratio``, ``archive_encrypted``, ``xml_entities`` or ``sheet_rows``,
            ``sheet_columns``, ``sheet_cells``.
    """
    sheets = sheets or SheetLimits()
    archive = Archive(io.BytesIO(data),
                      Expansion(ArchiveLimits(max_bytes, max_ratio, max_members)))
    for info in archive.members:
        with archive.open(info) as member:
            head = member.read(4096)
            if head.lstrip().startswith(b"<"):
                # not XML after all (ExpatError): its size is what matters
                with contextlib.suppress(expat.ExpatError):
                    # A document type alone is harmless (expat fetches nothing); entities not.
                    walk_xml(Prefixed(head, member), sheets, allow_doctype=True)
            while member.read(_CHUNK):
                pass


class TextSink(Protocol):
    def text(self, piece: str) -> None: ...

    def end_unit(self) -> None: ...


# Elements whose end ends a unit of text (a cell, a paragraph, a shared string, a comment, a
# document property); runs inside them (w:r, a:r, text:span, …) join.
_BLOCKS = frozenset({
    "si", "c", "is", "row", "comment", "oddHeader", "evenHeader", "firstHeader", "oddFooter",
    "evenFooter", "firstFooter", "definedName", "author", "p", "h", "tc", "tr", "li", "td",
    "th", "div", "table-cell", "note", "title", "subject", "creator", "keywords",
    "description", "category", "lastModifiedBy", "property", "lpwstr", "vt:lpwstr"})


class _XmlWalk:
    def __init__(self, sheets: SheetLimits | None, sink: TextSink | None) -> None:
        self.sheets = sheets
        self.sink = sink
        self.kind: str | None = None  # the root element: worksheet, sst, …
        self.row = self.column = self.width = self.cells = self.held = 0

    def refuse(self, *args: Any) -> None:
        raise Unsafe("xml_entities")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if self.kind is None:
            self.kind = local
        if self.sheets is not None:
            if self.kind == "worksheet":
                self._sheet(local, attrs, self.sheets)
            elif self.kind == "sst" and local == "si":
                self.cells += 1  # every shared string is kept in memory by a reader
                if self.cells > self.sheets.max_cells:
                    raise Unsafe("sheet_cells", limit=str(self.sheets.max_cells))
        if self.sink is not None:
            for value in attrs.values():
                if not value.isascii():  # sheet names, prompts, titles
                    self.sink.end_unit()
                    self.sink.text(value)
                    self.sink.end_unit()

    def end(self, name: str) -> None:
        if self.sink is not None and name.rpartition(":")[2] in _BLOCKS:
            self.sink.end_unit()

    def _sheet(self, local: str, attrs: dict[str, str], limits: SheetLimits) -> None:
        if local == "c":
            column = _column(attrs.get("r")) or self.column + 1
            if column > limits.max_columns:
                raise Unsafe("sheet_columns", limit=str(limits.max_columns))
            self.column = column
            self.width = max(self.width, column)
            self.cells += 1
            if self.cells > limits.max_cells or self.held + self.width > limits.max_cells:
                raise Unsafe("sheet_cells", limit=str(limits.max_cells))
        elif local == "row":
            self.end_row(limits)
            number = attrs.get("r", "")
            self.row = int(number) if number.isdigit() and len(number) < 12 else self.row + 1
            if self.row > limits.max_rows:
                raise Unsafe("sheet_rows", limit=str(limits.max_rows))
            self.column = 0
        elif local == "dimension":
            # A reader pads every row to the declared width and adds the declared rows.
            last = (attrs.get("ref") or "").rpartition(":")[2]
            column, row = _column(last), _row(last)
            if row > limits.max_rows:
                raise Unsafe("sheet_rows", limit=str(limits.max_rows))
            if column > limits.max_columns:
                raise Unsafe("sheet_columns", limit=str(limits.max_columns))
            if row * column > limits.max_cells:
                raise Unsafe("sheet_cells", limit=str(limits.max_cells))

    def end_row(self, limits: SheetLimits) -> None:
        self.held += self.width
        self.width = 0
        if self.held > limits.max_cells:
            raise Unsafe("sheet_cells", limit=str(limits.max_cells))


def _column(ref: str | None) -> int:
    """The column number of a cell reference (``AB12`` → 28); 0 when it has none."""
    number = 0
    for char in (ref or "").upper():
        if not "A" <= char <= "Z":
            break
        number = number * 26 + ord(char) - 64
        if number > 1 << 40:
            break
    return number


def _row(ref: str) -> int:
    digits = ref.lstrip("$ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz").lstrip("$")
    return int(digits) if digits.isdigit() and len(digits) < 12 else 0


def walk_xml(stream: Any, sheets: SheetLimits | None = None, sink: TextSink | None = None,
             allow_doctype: bool = False) -> None:
    """Parse XML as it streams (no tree is built): refuse entity declarations (and document
    types, unless allowed), hold worksheets and shared strings to ``sheets``, and hand text
    (element text and non-ASCII attribute values, by units) to ``sink``.

    Raises:
        Unsafe: ``xml_entities``, ``sheet_rows``, ``sheet_columns`` or ``sheet_cells``.
        xml.parsers.expat.ExpatError: Not well-formed XML.
    """
    walk = _XmlWalk(sheets, sink)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.EntityDeclHandler = walk.refuse
    if not allow_doctype:
        parser.StartDoctypeDeclHandler = walk.refuse
    parser.StartElementHandler = walk.start
    if sink is not None:
        parser.EndElementHandler = walk.end
        parser.CharacterDataHandler = sink.text
    while chunk := stream.read(_CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)
    if sheets is not None and walk.kind == "worksheet":
        walk.end_row(sheets)


# A document type declaration is where entities are declared; well-formed feeds need none.
_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def check_xml(data: bytes) -> None:
    """Refuse XML that declares a document type or entities (billion laughs, external
    entities reading local files or URLs). Also in UTF-16, by decoding first when it has a BOM.

    Raises:
        Unsafe: ``xml_entities``.
    """
    head = data
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        head = data.decode("utf-16", errors="replace").encode("utf-8")
    if _DOCTYPE.search(head):
        raise Unsafe("xml_entities")


def check_jsonld(data: bytes) -> None:
    """Refuse JSON-LD whose ``@context`` is fetched from elsewhere (a URL, or an ``@import``):
    rdflib would download it, from any address. Inline contexts are fine.

    Raises:
        Unsafe: ``jsonld_remote_context``; ``jsonld_bad`` when it is not JSON.
    """
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise Unsafe("jsonld_bad") from None
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in ("@context", "@import") and _names_remote(value):
                    raise Unsafe("jsonld_remote_context")
                stack.append(value)


def _names_remote(context: object) -> bool:
    if isinstance(context, str):
        return True
    if isinstance(context, list):
        return any(isinstance(item, str) for item in context)
    return False


def drop_folder(root: str | None, relative: str) -> pathlib.Path:
    """The folder ``relative`` under the configured drop root, resolved.

    Raises:
        Unsafe: ``drop_disabled`` when no root is configured; ``drop_outside`` when the path
            leaves it (``..``, absolute paths, symbolic links out); ``drop_missing``.
    """
    if not root:
        raise Unsafe("drop_disabled")
    base = pathlib.Path(root).resolve()
    candidate = (base / relative.lstrip("/")).resolve()
    if candidate != base and base not in candidate.parents:
        raise Unsafe("drop_outside", path=relative)
    if not candidate.is_dir():
        raise Unsafe("drop_missing", path=relative)
    return candidate


def read_dropped(folder: pathlib.Path, name: str, max_bytes: int) -> bytes:
    """A file of a drop folder, by its name in the manifest (which may not leave the folder).

    The file is opened without following a symbolic link at its last step; the open descriptor
    is then checked to be a regular file (not a FIFO or device that would block or never end)
    inside the folder (its path as the kernel resolved it: a folder on the way swapped for a
    link since the check is caught), and read up to the limit.

    Raises:
        Unsafe: ``drop_outside``, ``drop_missing`` or ``too_large``.
    """
    path = (folder / name).resolve()
    if folder not in path.parents:
        raise Unsafe("drop_outside", path=name)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise Unsafe("drop_missing", path=name) from None
    except OSError:  # a symbolic link put there after the check (ELOOP), or unreadable
        raise Unsafe("drop_outside", path=name) from None
    with os.fdopen(descriptor, "rb") as handle:
        # What was opened, whatever a folder on the way was swapped for since the check.
        opened = pathlib.Path(os.readlink(f"/proc/self/fd/{handle.fileno()}"))
        if folder not in opened.parents:
            raise Unsafe("drop_outside", path=name)
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise Unsafe("drop_missing", path=name)
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Unsafe("too_large", limit=megabytes(max_bytes))
    return data


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"
