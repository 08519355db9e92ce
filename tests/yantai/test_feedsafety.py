"""What a harvested feed may contain: archives, XML, drop folders."""
from __future__ import annotations

import io
import json
import os
import zipfile

import pytest

from ckanext.yantai import feedsafety

pytestmark = pytest.mark.pure
MB = 1024 * 1024


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_an_ordinary_archive_passes():
    feedsafety.check_archive(_zip({"a.csv": "名称,代码\n".encode() * 1000}), 10 * MB)


def test_a_decompression_bomb_is_refused_by_ratio_and_by_size():
    bomb = _zip({"zeros.csv": b"\0" * (50 * MB)})
    assert len(bomb) < MB
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_archive(bomb, 100 * MB)
    assert unsafe.value.code == "archive_ratio"
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_archive(bomb, 10 * MB, max_ratio=10_000)
    assert unsafe.value.code == "archive_too_large"


def test_sizes_that_lie_are_caught_while_reading():
    """An archive whose directory declares small members but which expands to more."""
    data = bytearray(_zip({"zeros.csv": b"\0" * (8 * MB)}))
    # Rewrite the declared uncompressed size (local header offset 22, central directory
    # offset 24 from its signature) to 1 KB: the real size is found only by reading.
    local = data.index(b"PK\x03\x04")
    data[local + 22:local + 26] = (1024).to_bytes(4, "little")
    central = data.index(b"PK\x01\x02")
    data[central + 24:central + 28] = (1024).to_bytes(4, "little")
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_archive(bytes(data), 4 * MB, max_ratio=10_000)
    assert unsafe.value.code in ("archive_too_large", "archive_bad")


def test_too_many_members_and_garbage():
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_archive(_zip({f"{i}.txt": b"x" for i in range(30)}), MB, max_members=20)
    assert unsafe.value.code == "archive_members"
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_archive(b"PK\x03\x04 not really", MB)
    assert unsafe.value.code == "archive_bad"


@pytest.mark.parametrize("xml", [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
    b"<r>&lol2;</r>",
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>',
    b'<!doctype r SYSTEM "http://169.254.169.254/x.dtd"><r/>',
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'
    .encode("utf-16"),
])
def test_xml_declaring_entities_is_refused(xml):
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_xml(xml)
    assert unsafe.value.code == "xml_entities"


def test_plain_xml_passes():
    feedsafety.check_xml('<?xml version="1.0"?><rdf:RDF xmlns:rdf="x"><a>烟台</a></rdf:RDF>'
                         .encode())


@pytest.mark.parametrize("document", [
    {"@context": "http://10.0.0.8/context.jsonld", "@id": "x"},
    {"@context": ["https://example.org/c.jsonld", {"t": "http://purl.org/dc/terms/title"}]},
    {"@context": {"@import": "http://169.254.169.254/latest"}},
    {"@graph": [{"@id": "x", "p": {"@context": "http://10.0.0.8/nested.jsonld"}}]},
])
def test_jsonld_naming_a_remote_context_is_refused(document):
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_jsonld(json.dumps(document).encode())
    assert unsafe.value.code == "jsonld_remote_context"


def test_jsonld_with_inline_contexts_passes_and_broken_json_is_named():
    feedsafety.check_jsonld(json.dumps({"@context": {"t": "http://purl.org/dc/terms/title",
                                                     "@vocab": "http://www.w3.org/ns/dcat#"},
                                        "@id": "x", "t": "烟台"}, ensure_ascii=False).encode())
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.check_jsonld(b"{not json")
    assert unsafe.value.code == "jsonld_bad"


def test_drop_folders_stay_under_their_root(tmp_path):
    root = tmp_path / "drop"
    (root / "jtj").mkdir(parents=True)
    (root / "jtj" / "manifest.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path, root / "escape")

    assert feedsafety.drop_folder(str(root), "jtj") == (root / "jtj").resolve()
    for path, code in (("../", "drop_outside"), ("jtj/../../", "drop_outside"),
                       ("escape", "drop_outside"), ("nowhere", "drop_missing")):
        with pytest.raises(feedsafety.Unsafe) as unsafe:
            feedsafety.drop_folder(str(root), path)
        assert unsafe.value.code == code, path
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.drop_folder(None, "jtj")
    assert unsafe.value.code == "drop_disabled"

    folder = feedsafety.drop_folder(str(root), "jtj")
    assert feedsafety.read_dropped(folder, "manifest.json", 100) == b"{}"
    for name, code in (("../../secret.txt", "drop_outside"), ("/etc/passwd", "drop_outside"),
                       ("absent.csv", "drop_missing")):
        with pytest.raises(feedsafety.Unsafe) as unsafe:
            feedsafety.read_dropped(folder, name, 100)
        assert unsafe.value.code == code, name
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.read_dropped(folder, "manifest.json", 1)
    assert unsafe.value.code == "too_large"


def test_a_drop_folder_fifo_or_device_is_not_read(tmp_path):
    folder = tmp_path / "jtj"
    folder.mkdir()
    os.mkfifo(folder / "manifest.json")  # would block a plain read for ever
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.read_dropped(folder.resolve(), "manifest.json", 1024)
    assert unsafe.value.code == "drop_missing"
    (folder / "big.csv").write_bytes(b"x" * 2048)
    with pytest.raises(feedsafety.Unsafe) as unsafe:
        feedsafety.read_dropped(folder.resolve(), "big.csv", 1024)
    assert unsafe.value.code == "too_large"
    assert feedsafety.read_dropped(folder.resolve(), "big.csv", 4096) == b"x" * 2048
