"""What changed between two published versions, as a visitor reads the policy: paragraph by paragraph.

Both versions are rendered with the policy page's own template, in each
language, and cut into the blocks a reader sees: headings, paragraphs, list
items, the facts of a purpose, table rows and cookies. The blocks of the two
versions are lined up; a block only in the new version is added, one only in
the old is removed, and a block that is like one of the other version (same
kind, same section, mostly the same words) is changed, with the words that
went and came marked. The "last updated" line is left out: it changes with
every version and says nothing of the content.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from vern.declaration.models import PolicyVersion
from vern.declaration.schema import Declaration
from vern.declaration.selectors import policy_page

# Two blocks of the same kind and section this alike are one block, changed.
SIMILAR = 0.5
BLOCK_TAGS = {"p", "li", "h2", "h3", "dt", "dd", "tr"}


@dataclass(frozen=True)
class Block:
    """One piece of the rendered policy a reader sees as a unit."""

    section: str  # the heading of the section it is in ("9. Your rights")
    kind: str  # "heading", "paragraph", "item", "fact", "row" or "cookie"
    text: str


@dataclass(frozen=True)
class Change:
    """One block added, removed or changed; ``words`` marks what changed, word by word."""

    kind: str  # "added", "removed" or "changed"
    section: str
    block_kind: str
    old: str
    new: str
    words: list[tuple[str, str]] = field(default_factory=list)  # ("same" | "removed" | "added", text)


class _Blocks(HTMLParser):
    """Cuts the policy's HTML into blocks, keeping the section each is in and the headers of tables."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.section = ""
        self.open: list[tuple[str, list[str]]] = []  # the block elements open now, with their text
        self.cells: list[str] | None = None
        self.cell: list[str] | None = None
        self.headers: list[str] = []
        self.in_head = False
        self.cookie_table = False
        self.skip = 0  # inside the "last updated" line
        self.fact = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.skip:
            self.skip += tag in ("p",)
            return
        if tag == "p" and "policy__updated" in classes:
            self.skip = 1
            return
        if tag == "table":
            self.cookie_table = "cookie-table" in classes
            self.headers = []
        elif tag == "thead":
            self.in_head = True
        elif tag == "tr":
            self.cells = []
        elif tag in ("td", "th") and self.cells is not None:
            self.cell = []
        elif tag == "br":
            self._text(" · ")
        elif tag in BLOCK_TAGS:
            self.open.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag == "p":
                self.skip -= 1
            return
        if tag == "thead":
            self.in_head = False
        elif tag in ("td", "th") and self.cell is not None and self.cells is not None:
            self.cells.append(_clean("".join(self.cell)))
            self.cell = None
        elif tag == "tr" and self.cells is not None:
            self._row(self.cells)
            self.cells = None
        elif self.open and self.open[-1][0] == tag:
            _tag, parts = self.open.pop()
            self._block(tag, _clean("".join(parts)))

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self._text(data)

    def _text(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        elif self.open:
            self.open[-1][1].append(data)

    def _row(self, cells: list[str]) -> None:
        if self.in_head:
            self.headers = cells
            return
        if self.headers and len(self.headers) == len(cells):
            text = " · ".join(f"{header}: {cell}" for header, cell in zip(self.headers, cells, strict=True) if cell)
        else:
            text = " · ".join(cell for cell in cells if cell)
        self.blocks.append(Block(self.section, "cookie" if self.cookie_table else "row", text))

    def _block(self, tag: str, text: str) -> None:
        if not text:
            return
        if tag == "h2":
            self.section = text
            self.blocks.append(Block(text, "heading", text))
        elif tag == "h3":
            self.blocks.append(Block(self.section, "heading", text))
        elif tag == "dt":
            self.fact = text
        elif tag == "dd":
            self.blocks.append(Block(self.section, "fact", f"{self.fact}: {text}" if self.fact else text))
        else:
            self.blocks.append(Block(self.section, "item" if tag == "li" else "paragraph", text))


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(" ·")


def policy_blocks(
    version: PolicyVersion, language: str, request: Any = None, declaration: Declaration | None = None
) -> list[Block]:
    """The blocks of a version's policy text in one language, in the order a reader meets them.

    With ``declaration`` (a draft), that declaration is rendered as if it were ``version``."""
    with translation.override(language):
        page = policy_page(version, language, declaration)
        html = render_to_string("declaration/policy_body.html", {"page": page}, request=request)
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    # The title and the lead paragraph stand above the body, in the page's own template.
    policy = page.d["policy"]
    above = [Block("", "heading", _clean(policy["title"])), Block("", "paragraph", _clean(policy["lead"]))]
    return above + parser.blocks


def _words(old: str, new: str) -> list[tuple[str, str]]:
    """The two texts as runs of words kept, removed and added."""
    before, after = re.findall(r"\S+\s*", old), re.findall(r"\S+\s*", new)
    runs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            runs.append(("same", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("removed", "".join(before[i1:i2])))
        if j2 > j1:
            runs.append(("added", "".join(after[j1:j2])))
    return runs


def _alike(old: Block, new: Block) -> float:
    if old.kind != new.kind:
        return 0.0
    return difflib.SequenceMatcher(None, old.text.split(), new.text.split(), autojunk=False).ratio()


def _pair(old: list[Block], new: list[Block]) -> list[Change]:
    """A run of blocks replaced by another: each old block is matched to the first new one like it."""
    changes: list[Change] = []
    j = 0
    for block in old:
        match = next((k for k in range(j, len(new)) if _alike(block, new[k]) >= SIMILAR), None)
        if match is None:
            changes.append(Change("removed", block.section, block.kind, block.text, ""))
            continue
        for added in new[j:match]:
            changes.append(Change("added", added.section, added.kind, "", added.text))
        target = new[match]
        changes.append(
            Change("changed", target.section, target.kind, block.text, target.text, _words(block.text, target.text))
        )
        j = match + 1
    for added in new[j:]:
        changes.append(Change("added", added.section, added.kind, "", added.text))
    return changes


def compare(old: list[Block], new: list[Block]) -> list[Change]:
    """Every block added, removed or changed from ``old`` to ``new``, in reading order."""
    matcher = difflib.SequenceMatcher(None, [(b.kind, b.text) for b in old], [(b.kind, b.text) for b in new], False)
    changes: list[Change] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            changes.extend(_pair(old[i1:i2], new[j1:j2]))
    return changes


@dataclass(frozen=True)
class SectionChanges:
    heading: str
    changes: list[Change]


@dataclass(frozen=True)
class LanguageChanges:
    language: str
    name: str  # the language's own name for itself
    changes: list[Change]

    @property
    def sections(self) -> list[SectionChanges]:
        """The changes grouped by the section they are in, in reading order."""
        grouped: list[SectionChanges] = []
        for change in self.changes:
            if not grouped or grouped[-1].heading != change.section:
                grouped.append(SectionChanges(change.section, []))
            grouped[-1].changes.append(change)
        return grouped


def version_changes(
    old: PolicyVersion,
    new: PolicyVersion,
    languages: list[tuple[str, str]],
    request: Any = None,
    new_declaration: Declaration | None = None,
) -> list[LanguageChanges]:
    """The changes from one version to another in each language (code, name), in the order given.

    With ``new_declaration``, the new side is that declaration (a draft, not yet published)."""
    return [
        LanguageChanges(
            language,
            name,
            compare(
                policy_blocks(old, language, request),
                policy_blocks(new, language, request, new_declaration),
            ),
        )
        for language, name in languages
    ]
