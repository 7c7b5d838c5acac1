"""An extractor plug-in for snake-pipe: TODO and FIXME comments, counted per file.

Installed, it adds ``todo_count`` and ``todo_lines`` to every parsed file's ``extra``. It
reads the syntax tree, so a TODO inside a string does not count, only one in a comment.
"""

from __future__ import annotations

import re
from typing import Any

from snake_pipe.plugins import SourceFile

MARKER = re.compile(rb"\b(?:TODO|FIXME)\b")


def count_todos(file: SourceFile) -> dict[str, Any]:
    lines = []
    stack = [file.tree.root_node]
    while stack:
        node = stack.pop()
        if "comment" in node.type:
            lines.extend(node.start_point[0] + 1 + i
                         for i, line in enumerate((node.text or b"").splitlines())
                         if MARKER.search(line))  # fmt: skip
        else:
            stack.extend(node.children)
    return {"todo_count": len(lines), "todo_lines": sorted(lines)}
