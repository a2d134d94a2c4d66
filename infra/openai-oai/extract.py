"""Vendors the part of OpenAI's published OpenAPI document the Chat Completions client uses.

Reads OpenAI's OpenAPI document (openai/openai-openapi, `openapi.yaml`; the path is the one
argument) and writes chat-completions.schema.json:
the schemas CreateChatCompletionRequest and CreateChatCompletionStreamResponse with every schema
they reference, as one JSON Schema document whose `$defs` hold them (refs rewritten from
`#/components/schemas/X` to `#/$defs/X`, `nullable` as a null type). Run once when the upstream document changes:
    python3 infra/openai-oai/extract.py path/to/openapi.yaml
"""
import json
import sys
from pathlib import Path

import yaml

ROOTS = ["CreateChatCompletionRequest", "CreateChatCompletionStreamResponse"]


def refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/components/schemas/"):
                out.add(v.rsplit("/", 1)[1])
            else:
                refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def rewrite(node):
    """Rewrites refs to `#/$defs/`, and OpenAPI 3.0's `nullable: true` into JSON Schema's null type
    (a JSON Schema validator ignores `nullable`, and would refuse `"finish_reason": null`)."""
    if isinstance(node, dict):
        out = {k: (v.replace("#/components/schemas/", "#/$defs/") if k == "$ref" and isinstance(v, str) else rewrite(v))
               for k, v in node.items() if k != "nullable"}
        if node.get("nullable") is True:
            if isinstance(out.get("type"), str):
                out["type"] = [out["type"], "null"]
                if "enum" in out:
                    out["enum"] = out["enum"] + [None]
            else:
                out = {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [rewrite(v) for v in node]
    return node


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: extract.py path/to/openapi.yaml")
    src = Path(sys.argv[1])
    doc = yaml.safe_load(src.read_text())
    schemas = doc["components"]["schemas"]
    todo, seen = list(ROOTS), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found = set()
        refs(schemas[name], found)
        todo.extend(found - seen)
    out = {
        "$comment": f"Vendored from OpenAI's OpenAPI document ({doc['info'].get('version')}), MIT licence (LICENSE); "
                    "only the schemas the Chat Completions client uses. Regenerate with extract.py.",
        "$defs": {name: rewrite(schemas[name]) for name in sorted(seen)},
    }
    Path(__file__).with_name("chat-completions.schema.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"{len(seen)} schemas", file=sys.stderr)


main()
