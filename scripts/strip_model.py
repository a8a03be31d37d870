"""Strip documentation from a botocore service-2.json so it can be embedded in the binary.

Usage: python3 scripts/strip_model.py path/to/service-2.json[.gz] > src/protocol/models/<name>.json
"""
import gzip
import json
import sys

DROPPED = {"documentation", "documentationUrl", "examples", "deprecatedMessage"}


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in DROPPED}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


path = sys.argv[1]
opener = gzip.open if path.endswith(".gz") else open
with opener(path, "rt") as source:
    model = json.load(source)
json.dump(strip(model), sys.stdout, separators=(",", ":"))
