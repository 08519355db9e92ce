"""Load the demo catalogue into a running portal:
python -m demo --url URL --token-file F."""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

from ckanapi import RemoteCKAN

from demo import CATALOGUE, Loader, read_catalogue


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="the portal's address, e.g. http://127.0.0.1:5000")
    parser.add_argument("--token-file", type=pathlib.Path, required=True,
                        help="JSON file with a sysadmin's `api_token` (.run/admin.json)")
    parser.add_argument("--catalogue", type=pathlib.Path, default=CATALOGUE)
    args = parser.parse_args(argv)

    token = json.loads(args.token_file.read_text())["api_token"]
    with RemoteCKAN(args.url, apikey=token, user_agent="yantai-demo-loader/1") as client:
        counts = Loader(client).load(read_catalogue(args.catalogue))
    print("    demo catalogue: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
