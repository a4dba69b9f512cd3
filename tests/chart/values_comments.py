"""Find the keys of a values file that have no comment of their own."""

from __future__ import annotations

import re

KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.\-\"']+):(?P<rest>.*)$")


def _keys(text: str):
    """Each key of a values file as (dotted path, the line before it, the rest of its line).

    Entries of lists and the contents of block scalars (|, >) are not keys of the file.
    """
    path, skip_deeper_than = [], None
    previous = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            previous = stripped if stripped else previous
            continue
        indent = len(line) - len(line.lstrip(" "))
        if skip_deeper_than is not None and indent > skip_deeper_than:
            continue
        skip_deeper_than = None
        match = KEY.match(line)
        if stripped.startswith("- ") or not match:
            skip_deeper_than = indent - 1 if stripped.startswith("- ") else indent
            previous = stripped
            continue
        path = [*path[: indent // 2], match["key"]]
        yield ".".join(path), previous, match["rest"]
        if match["rest"].strip().startswith(("|", ">")):
            skip_deeper_than = indent
        previous = stripped


def uncommented_keys(text: str) -> list[str]:
    """Keys (as dotted paths) not preceded by a comment line nor followed by an inline one."""
    return [
        path
        for path, previous, rest in _keys(text)
        if not previous.startswith("#") and "#" not in rest.strip()
    ]


def empty_comments(text: str) -> list[str]:
    """Keys (dotted paths) whose own comment is one word ("# On.", "# Ceiling.", "# Tag."):
    a restatement of the key or value, not something a user needs to know."""
    empty = []
    for path, previous, rest in _keys(text):
        inline = rest.split(" #", 1)[1] if " #" in rest else ""
        comment = inline or (previous[1:] if previous.startswith("#") else "")
        if re.fullmatch(r"[A-Za-z][A-Za-z-]*\.?", comment.strip()):
            empty.append(path)
    return empty
