"""Extract the openAPIV3Schema of CustomResourceDefinitions into JSON files the deploy tests validate against.

    python deploy/schemas/extract_crd_schemas.py --version v1 --out deploy/schemas/strimzi CRD.yaml [CRD.yaml ...]

Each CRD (a file may hold several) gives ``<out>/<kind in lower case>.json``: the schema of the named version,
unchanged. deploy/schemas/README.md lists where each set comes from; tests/deploy/support.py makes the schemas
strict (unknown fields rejected) when it loads them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml


def extract(paths: list[Path], version: str, out: Path, kinds: set[str] | None = None) -> list[Path]:
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not document or document.get("kind") != "CustomResourceDefinition":
                continue
            kind = document["spec"]["names"]["kind"]
            if kinds and kind not in kinds:
                continue
            served = {item["name"]: item for item in document["spec"]["versions"]}
            if version not in served:
                raise SystemExit(f"{path}: {kind} does not serve {version} (it serves {', '.join(served)})")
            target = out / f"{kind.lower()}.json"
            schema = served[version]["schema"]["openAPIV3Schema"]
            target.write_text(json.dumps(schema, indent=1) + "\n", encoding="utf-8")
            written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("crds", nargs="+", type=Path)
    parser.add_argument("--version", required=True, help="the CRD version to take, e.g. v1")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--kind", action="append", help="only these kinds (repeat); all when omitted")
    arguments = parser.parse_args()
    for path in extract(arguments.crds, arguments.version, arguments.out, set(arguments.kind or [])):
        print(path)


if __name__ == "__main__":
    main()
