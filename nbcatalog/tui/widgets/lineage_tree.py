"""The catalog as a tree: inferred parents once lineage has run (declared ones before), with badges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import events
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from nbcatalog.audit import Finding
from nbcatalog.catalog import Catalog, CatalogImage
from nbcatalog.lineage import LineageEntry, LineageImage, tree_roots
from nbcatalog.safetext import safe_text
from nbcatalog.tui.state import TagStatus
from nbcatalog.tui.widgets.lists import ListTree

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "blue"}


def declared_entries(catalog: Catalog) -> list[LineageEntry]:
    """Placeholder entries from the catalog alone, so the first paint needs no registry."""
    return [LineageEntry(LineageImage(i.name, i.image, i.tag, i.parent, None), None, None) for i in catalog.images]


def entry_label(
    image: CatalogImage,
    lineage: LineageEntry | None,
    status: TagStatus | None,
    findings: Sequence[Finding] = (),
    *,
    rereading: bool = False,
) -> Text:
    """``name  tag  kind  [CUDA 12.1]  ↑v1.10.0  ⚠ stale-tag``: what an admin scans the tree for.

    Facts computed for another tag than the entry has now (an edit the workers have not caught up
    with) are left out, and while the registries are read again the badges are dimmed: a badge is
    either current or visibly on its way, never wrong. One cause gets one badge: an unreachable
    registry is "registry error", not that plus an audit finding and an unresolved lineage. Every
    name and tag is text with its controls escaped (a tree label given as ``str`` would be markup).
    """
    text = Text.assemble(
        (safe_text(image.name), "bold"), "  ", (safe_text(image.tag), "cyan"), "  ", (safe_text(image.kind), "dim")
    )
    if status is not None and status.tag is not None and status.tag != image.tag:
        status = None  # about the old tag
    findings = [f for f in findings if not f.current or f.current == image.tag or f.kind != "stale-tag"]
    dim = " dim" if rereading else ""
    if image.default:
        text.append("  ★ default", "green")
    if image.hidden:
        text.append("  hidden", "dim italic")
    cuda = lineage.image.cuda if lineage is not None else None
    if cuda is not None:
        text.append(f"  [CUDA {safe_text(cuda.version)}]" if cuda.version else "  [CUDA]", "bold magenta")
    elif image.gpu is True:
        text.append("  [GPU]", "magenta")
    unreachable = status is not None and bool(status.error)
    if status is not None:
        if status.error:
            text.append("  ✗ registry error", "bold red" + dim)
        elif not status.present:
            text.append("  ✗ missing tag", "bold red" + dim)
        elif status.newest and status.newest != image.tag:
            text.append(f"  ↑ {safe_text(status.newest)}", "yellow" + dim)
    if lineage is not None:
        declared = image.parent
        if lineage.inferred_parent and declared and lineage.inferred_parent != declared:
            text.append(f"  ≠ declared {safe_text(declared)}", "yellow")
        elif lineage.inferred_parent and not declared:
            text.append("  (inferred)", "dim")
        if lineage.image.error and not unreachable:
            text.append("  ✗ unresolved", "bold red" + dim)
        for issue in lineage.issues:
            if issue.kind in ("stale-base", "declared-not-ancestor"):
                text.append(f"  ⚠ {safe_text(issue.kind)}", SEVERITY_STYLE.get(issue.severity, "yellow") + dim)
    rank = ("info", "warning", "error")
    shown = {f.kind for f in findings} - ({"registry-error", "stale-tag", "missing-tag"} if status else set())
    if unreachable:
        shown.discard("registry-error")
    for kind in sorted(shown):
        worst = max((f.severity for f in findings if f.kind == kind), key=rank.index)
        text.append(f"  ⚠ {safe_text(kind)}", SEVERITY_STYLE[worst] + dim)
    return text


def matches(image: CatalogImage, needle: str) -> bool:
    haystack = " ".join((image.name, image.display_name, image.tag, image.image, image.kind)).lower()
    return all(word in haystack for word in needle.lower().split())


class LineageTree(ListTree):
    """Node data is the catalog entry's name; ``show`` rebuilds and keeps the cursor on the same name.

    ``selected_name`` follows the cursor at once (the cursor itself moves on the next refresh), so a
    rebuild right after a selection keeps it.
    """

    selected_name: str | None = None
    _pending: str | None = None
    shown: int = 0  # entries on screen after the filter

    async def _on_click(self, event: events.Click) -> None:
        """A first click only moves the cursor (the facts pane follows); a click on the cursor opens."""
        meta = event.style.meta
        line = meta.get("line")
        if isinstance(line, int) and not meta.get("toggle", False) and line != self.cursor_line:
            event.prevent_default()
            self.cursor_line = line

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        # Only the node under the cursor now counts: a highlight posted before a rebuild or a
        # selection arrives late and would move the details pane to another entry.
        if self._pending is None and event.node is self.cursor_node:
            self.selected_name = event.node.data

    def show(
        self,
        catalog: Catalog,
        lineage: Mapping[str, LineageEntry],
        tags: Mapping[str, TagStatus],
        findings: Mapping[str, Sequence[Finding]],
        needle: str = "",
        *,
        rereading: bool = False,
        select: str | None = None,
    ) -> None:
        """Rebuild; the cursor stays on the selected entry (or goes to ``select``, after an edit)."""
        entries = [lineage.get(image.name) or placeholder for image, placeholder in
                   zip(catalog.images, declared_entries(catalog), strict=True)]  # fmt: skip
        roots, children = tree_roots(entries)
        parent_of = {child: parent for parent, kids in children.items() for child in kids}
        keep: set[str] = set()
        for image in catalog.images:
            if not needle or matches(image, needle):
                name: str | None = image.name
                while name is not None and name not in keep:
                    keep.add(name)
                    name = parent_of.get(name)
        self.clear()
        self.root.expand()
        images = {image.name: image for image in catalog.images}

        def add(node: TreeNode[str], name: str) -> None:
            if name not in keep:
                return
            label = entry_label(
                images[name], lineage.get(name), tags.get(name), findings.get(name, ()), rereading=rereading
            )
            kids = [kid for kid in children[name] if kid in keep]
            child = node.add(label, data=name, expand=True, allow_expand=bool(kids))
            for kid in kids:
                add(child, kid)

        for root in roots:
            add(self.root, root)
        self.shown = len(keep)
        self.select_name(select if select in keep else self.selected_name)

    def neighbour(self, name: str) -> str | None:
        """The entry the cursor should land on when ``name`` goes: the next row, else the one before."""
        names = [str(node.data) for node in self._tree_lines_nodes() if node.data is not None]
        if name not in names:
            return None
        index = names.index(name)
        rest = names[index + 1 :] + list(reversed(names[:index]))
        return rest[0] if rest else None

    def select_name(self, name: str | None) -> None:
        """Move the cursor to ``name`` (else the first entry)."""
        lines = [node for node in self._tree_lines_nodes() if node.data is not None]
        chosen = next((node for node in lines if node.data == name), lines[0] if lines else None)
        self.selected_name = self._pending = chosen.data if chosen is not None else None
        self.call_after_refresh(self._move_to_pending)

    def _move_to_pending(self) -> None:
        """Lines of new nodes are known only after a refresh: move the cursor then."""
        name, self._pending = self._pending, None
        node = next((n for n in self._tree_lines_nodes() if n.data == name), None)
        if node is not None:
            self.move_cursor(node)

    def _tree_lines_nodes(self) -> list[TreeNode[str]]:
        out: list[TreeNode[str]] = []
        stack = list(reversed(self.root.children))
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out
