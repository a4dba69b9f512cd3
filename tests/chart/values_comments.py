"""Find the keys of a values file that have no comment of their own."""

from __future__ import annotations

import re

KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.\-\"']+):(?P<rest>.*)$")


def uncommented_keys(text: str) -> list[str]:
    """Keys (as dotted paths) not preceded by a comment line nor followed by an inline one.

    Entries of lists and the contents of block scalars (|, >) are not keys of the file.
    """
    missing, path, skip_deeper_than = [], [], None
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
        depth = indent // 2
        path = [*path[:depth], match["key"]]
        rest = match["rest"].strip()
        if not previous.startswith("#") and "#" not in rest:
            missing.append(".".join(path))
        if rest.startswith(("|", ">")):
            skip_deeper_than = indent
        previous = stripped
    return missing


def empty_comments(text: str) -> list[str]:
    """Keys (dotted paths) whose own comment is one word ("# On.", "# Ceiling.", "# Tag."):
    a restatement of the key or value, not something a user needs to know."""
    empty, path, skip_deeper_than = [], [], None
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
        inline = match["rest"].split(" #", 1)[1] if " #" in match["rest"] else ""
        comment = inline or (previous[1:] if previous.startswith("#") else "")
        if re.fullmatch(r"[A-Za-z][A-Za-z-]*\.?", comment.strip()):
            empty.append(".".join(path))
        if match["rest"].strip().startswith(("|", ">")):
            skip_deeper_than = indent
        previous = stripped
    return empty
