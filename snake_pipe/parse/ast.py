"""The compact form of a full syntax tree, stored with ``--ast``.

One JSON object per file::

    {"v": 2, "types": ["module", ...], "fields": ["name", ...],
     "nodes": [[type, field, parent, named, start_byte, end_byte,
                start_row, start_col, end_row, end_col], ...],
     "text": [null, "def", ...]}

Nodes are in pre-order, so a node's id is its index and ``parent`` (-1 for the root) always
points backwards. ``type`` and ``field`` index the two string tables (``field`` is -1 when the
node has no field name). Rows and columns are 0-based, columns in bytes, as in tree-sitter.
``text`` is aligned with ``nodes``: the source text of each leaf, null for inner nodes.
"""

from __future__ import annotations

import json
from typing import Any

import tree_sitter as ts

FORMAT_VERSION = 2


def encode_tree(tree: ts.Tree) -> str:
    types: dict[str, int] = {}
    fields: dict[str, int] = {}
    nodes: list[list[int]] = []
    texts: list[str | None] = []
    parents: list[int] = [-1]
    cursor = tree.walk()
    while True:
        node = cursor.node
        assert node is not None
        field = cursor.field_name
        sp, ep = node.start_point, node.end_point
        nodes.append([
            types.setdefault(node.type, len(types)),
            -1 if field is None else fields.setdefault(field, len(fields)),
            parents[-1], int(node.is_named), node.start_byte, node.end_byte,
            sp[0], sp[1], ep[0], ep[1],
        ])  # fmt: skip
        leaf = node.child_count == 0
        texts.append((node.text or b"").decode("utf-8", "replace") if leaf else None)
        if cursor.goto_first_child():
            parents.append(len(nodes) - 1)
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return json.dumps(
                    {"v": FORMAT_VERSION, "types": list(types), "fields": list(fields),
                     "nodes": nodes, "text": texts},
                    separators=(",", ":"),
                )  # fmt: skip
            parents.pop()


def decode_tree(data: str | bytes | dict[str, Any]) -> list[dict[str, Any]]:
    """Expand the compact form into one dict per node: from the stored JSON text (``ast.tree``)
    or the decoded dict of an API record's ``ast``."""
    doc = data if isinstance(data, dict) else json.loads(data)
    types, fields = doc["types"], doc["fields"]
    texts = doc.get("text") or [None] * len(doc["nodes"])
    keys = ("start_byte", "end_byte", "start_row", "start_col", "end_row", "end_col")
    return [
        {"id": i, "type": types[n[0]], "field": fields[n[1]] if n[1] >= 0 else None,
         "parent": n[2], "named": bool(n[3]), **dict(zip(keys, n[4:], strict=True)),
         "text": texts[i]}
        for i, n in enumerate(doc["nodes"])
    ]  # fmt: skip
