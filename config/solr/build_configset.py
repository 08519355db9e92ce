#!/usr/bin/env python3
"""Build the portal's Solr configset: CKAN's own schema.xml with Chinese-aware text types.

The schema is taken from the installed ``ckan`` package, so it always follows the pinned CKAN; its
``text`` and ``text_general`` field types are replaced by those in
``configset/conf/chinese-fieldtypes.xml`` and the portal's catalogue fields of
``configset/conf/yantai-fields.xml`` are added to its fields.
The other files of ``configset/conf/`` are copied as they are. Used by the local stack
(scripts/stack.py) and by the production Solr image (docker/solr/Dockerfile).

Usage: build_configset.py OUT_DIR [--ckan-schema PATH]
"""
from __future__ import annotations

import argparse
import importlib.util
import pathlib
import re
import shutil
import sys

HERE = pathlib.Path(__file__).resolve().parent
CONF = HERE / "configset" / "conf"
REPLACED_TYPES = ("text", "text_general")
FRAGMENTS = ("chinese-fieldtypes.xml", "yantai-fields.xml")


def ckan_schema_path() -> pathlib.Path:
    """Locate ckan/config/solr/schema.xml in the installed ckan package without importing it."""
    spec = importlib.util.find_spec("ckan")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("build_configset: the ckan package is not installed in this Python")
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / "config" / "solr" / "schema.xml"


def field_type_pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf'<fieldType\s+name="{re.escape(name)}"\s[^>]*>.*?</fieldType>', re.DOTALL
    )


def build_schema(ckan_schema: str, replacements: str, fields: str = "") -> str:
    """Return CKAN's schema with each of REPLACED_TYPES swapped for its definition in replacements
    and the field definitions of ``fields`` added at the end of its <fields>."""
    schema = ckan_schema
    for name in REPLACED_TYPES:
        ours = field_type_pattern(name).findall(replacements)
        theirs = field_type_pattern(name).findall(schema)
        if len(ours) != 1 or len(theirs) != 1:
            raise SystemExit(
                f"build_configset: expected one fieldType {name!r} in each schema, "
                f"found {len(theirs)} in CKAN's and {len(ours)} in ours"
            )
        schema = schema.replace(theirs[0], ours[0])
    if fields:
        if schema.count("</fields>") != 1:
            raise SystemExit("build_configset: CKAN's schema has no single </fields> to extend")
        body = re.sub(r"<!--.*?-->", "", fields, flags=re.DOTALL).strip()
        schema = schema.replace("</fields>",
                                f"    <!-- yantai-fields.xml -->\n    {body}\n</fields>")
    return schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("out", type=pathlib.Path,
                        help="configset folder to write (its conf/ is replaced)")
    parser.add_argument("--ckan-schema", type=pathlib.Path, default=None)
    args = parser.parse_args(argv)

    source = args.ckan_schema or ckan_schema_path()
    out_conf = args.out / "conf"
    if out_conf.exists():
        shutil.rmtree(out_conf)
    out_conf.mkdir(parents=True)
    for item in CONF.iterdir():
        if item.name not in FRAGMENTS:
            shutil.copy2(item, out_conf / item.name)
    schema = build_schema(
        source.read_text(encoding="utf-8"),
        (CONF / "chinese-fieldtypes.xml").read_text(encoding="utf-8"),
        (CONF / "yantai-fields.xml").read_text(encoding="utf-8"),
    )
    (out_conf / "schema.xml").write_text(schema, encoding="utf-8")
    print(f"configset written to {args.out} (schema from {source})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
