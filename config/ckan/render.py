#!/usr/bin/env python3
"""Render the portal's CKAN ini files from the templates in this folder.

``common.ini.in`` and ``<profile>.ini.in`` are written to OUT_DIR as ``common.ini`` and ``<name>``
(a STANDALONE profile's template alone) with every ``${NAME}`` replaced from the environment. A
placeholder without a value is an error, so a missing secret or address never reaches a running
portal. Used by scripts/stack.py (development, test and the plain CKAN of the federation test) and
by the production image's entrypoint.

Usage: render.py PROFILE OUT_DIR [OUT_NAME]
"""
from __future__ import annotations

import os
import pathlib
import string
import sys
from collections.abc import Mapping

HERE = pathlib.Path(__file__).resolve().parent
PROFILES = ("development", "test", "production", "plain")
# Profiles that are a whole ini of their own, without the portal's common.ini.
STANDALONE = ("plain",)


def render_text(template: str, values: Mapping[str, str], source: str) -> str:
    tpl = string.Template(template)
    missing = sorted(
        {m.group("braced") or m.group("named") for m in tpl.pattern.finditer(template)
         if (m.group("braced") or m.group("named"))
         and (m.group("braced") or m.group("named")) not in values}
    )
    if missing:
        raise SystemExit(f"render: {source} needs {', '.join(missing)}, which are not set")
    # CKAN reads the ini with configparser interpolation: a literal % in a value must be %%.
    return tpl.substitute({k: str(v).replace("%", "%%") for k, v in values.items()})


def render(profile: str, out_dir: pathlib.Path, out_name: str | None = None,
           values: Mapping[str, str] | None = None) -> pathlib.Path:
    """Write common.ini and the profile's ini into out_dir; return the profile ini's path."""
    if profile not in PROFILES:
        raise SystemExit(f"render: unknown profile {profile!r} (one of {', '.join(PROFILES)})")
    env = dict(os.environ if values is None else values)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / (out_name or f"{profile}.ini")
    sources = [(HERE / f"{profile}.ini.in", target)]
    if profile not in STANDALONE:
        sources.insert(0, (HERE / "common.ini.in", out_dir / "common.ini"))
    for src, dst in sources:
        text = render_text(src.read_text(encoding="utf-8"), env, src.name)
        tmp = dst.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(dst)
    return target


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    path = render(argv[0], pathlib.Path(argv[1]), argv[2] if len(argv) == 3 else None)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
