"""Sections of BENCHMARKS.md that other bench scripts own.

``python -m bench.run`` writes BENCHMARKS.md whole; ``bench.parallel`` and
``bench.classroom`` each own one section between ``<!-- name -->`` and
``<!-- /name -->`` markers, which they replace and ``bench.run`` keeps.
"""

from __future__ import annotations

import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"<!-- {name} -->\n.*?<!-- /{name} -->\n", re.S)


def replace_section(name: str, markdown: str, path: Path = BENCHMARKS) -> None:
    """Put ``markdown`` into the named section (appended if it is not there yet)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"<!-- {name} -->\n{markdown.rstrip()}\n<!-- /{name} -->\n"
    pattern = _pattern(name)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block
    path.write_text(text)


def owned_sections(text: str) -> list[str]:
    """Every marked section of a BENCHMARKS.md text, in order."""
    pattern = r"<!-- (\w+) -->\n.*?<!-- /\1 -->\n"
    return [match.group(0) for match in re.finditer(pattern, text, re.S)]


def keep_sections(old: str, new: str) -> str:
    """``new`` with the marked sections of ``old`` appended (run.py's rewrite)."""
    kept = owned_sections(old)
    return new.rstrip() + "\n\n" + "\n".join(kept) if kept else new
