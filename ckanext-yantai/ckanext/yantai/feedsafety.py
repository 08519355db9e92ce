"""What a harvested feed may contain before the portal opens it: archives, XML, drop folders.

- Archives (ZIP, and XLSX, which is a ZIP of XML parts) are refused when they would expand past a
  size limit or by more than a ratio, or hold too many members; the declared sizes are checked
  first and the real ones while reading, since a crafted archive can lie about them.
- XML with a document type declaration (entity expansion, external entities) is refused before
  any parser that honours one sees it; so is JSON-LD that names a remote ``@context`` (the parser
  would fetch it).
- A drop folder is a directory under the folder an admin configured; a source may not name a
  path outside it, through ``..`` or a symbolic link.

Refusals raise ``Unsafe`` with a code that ``messages.py`` turns into a sentence.
"""
from __future__ import annotations

import io
import json
import os
import pathlib
import re
import stat
import zipfile

MAX_RATIO = 100  # expanded size / compressed size, per member and in total
MAX_MEMBERS = 10_000


class Unsafe(Exception):
    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


def check_archive(data: bytes, max_bytes: int, max_ratio: int = MAX_RATIO,
                  max_members: int = MAX_MEMBERS) -> None:
    """Refuse a ZIP archive that is a decompression bomb (or not a readable archive at all).

    Every member is read through (nothing is written anywhere), so that sizes the archive
    declares falsely are caught too.

    Raises:
        Unsafe: ``archive_bad``, ``archive_members``, ``archive_too_large`` or
            ``archive_ratio``.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Unsafe("archive_bad") from None
    if len(members) > max_members:
        raise Unsafe("archive_members", limit=str(max_members))
    declared = sum(m.file_size for m in members)
    if declared > max_bytes:
        raise Unsafe("archive_too_large", limit=_megabytes(max_bytes))
    compressed = max(sum(m.compress_size for m in members), 1)
    if declared > max_ratio * compressed and declared > 1024 * 1024:
        raise Unsafe("archive_ratio", ratio=str(max_ratio))
    total = 0
    for member in members:
        try:
            with archive.open(member) as stream:
                while chunk := stream.read(256 * 1024):
                    total += len(chunk)
                    if total > max_bytes:
                        raise Unsafe("archive_too_large", limit=_megabytes(max_bytes))
                    if total > max_ratio * compressed and total > 1024 * 1024:
                        raise Unsafe("archive_ratio", ratio=str(max_ratio))
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            raise Unsafe("archive_bad") from None


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
        raise Unsafe("too_large", limit=_megabytes(max_bytes))
    return data

def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"
