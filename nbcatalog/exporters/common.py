"""What every exporter shares: the result type, the generated-file header and YAML/Python rendering.

A generated file starts with a header (written by :mod:`nbcatalog.exporters.files`) naming the
catalog it came from and the sha256 of the body below it, so ``export`` can tell a file it wrote
(safe to replace) from one edited by hand since (kept unless ``--force``), with no other state.

A *merged* file (an admin's own values file or spawner config that nbcatalog merges its profiles
into) is mostly the admin's: hashing its whole body would make every edit to the admin's own keys
(``hub:``, cpu limits, the groups the catalog has no images for) look like a hand edit of generated
text, and the guard would ask to move into the catalog a change the catalog cannot hold. So a merged
file's header records instead ``# nbcatalog-managed-sha256: <hex> (<what>)``: the hash of only the
part nbcatalog writes (see :class:`Managed`), so the guard covers exactly what a merge replaces.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

HASH_MARKER = "nbcatalog-sha256:"
MANAGED_MARKER = "nbcatalog-managed-sha256:"
_HASH_RE = re.compile(r"^(?:#|//)\s*" + re.escape(HASH_MARKER) + r"\s*([0-9a-f]{64})\s*$")
_MANAGED_RE = re.compile(r"^#\s*" + re.escape(MANAGED_MARKER) + r"\s*([0-9a-f]{64})\s*\((.*)\)\s*$")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_KEY_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[^."]+')


@dataclass(frozen=True, slots=True)
class ExportResult:
    """One exporter's output: the body text (no header) and what the user should be told."""

    body: str
    warnings: tuple[str, ...] = ()
    extra_files: dict[str, str] = field(default_factory=dict)


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Managed:
    """The part of a merged file that nbcatalog generates: ``entries`` of the node at ``path``.

    Rendered in the header as ``PATH: ENTRY, ENTRY`` (``jupyterhub.singleuser.profileList: scipy,
    torch`` or ``spawnerFormDefaults: image.value, image.options, hideTag``). When the node at
    ``path`` is a sequence, an entry is the ``slug`` of the items nbcatalog wrote there (a z2jh
    ``profileList`` also holds the admin's own profiles, which stay the admin's); when it is a
    mapping, an entry is a dotted key path under it, taken from its key's line to the end of its
    value. That is exactly what a merge replaces, so an edit anywhere else is the admin's to keep.
    The header names the part, rather than each check working it out from the catalog, so that
    ``audit --fix`` (which has no catalog) can verify and renew it, and a catalog change cannot
    silently move the guard.

    When the file is a ConfigMap holding the spawner config (``data["spawner_ui_config.yaml"]``),
    ``path`` is read inside the embedded text, as the Kubeflow merge does.
    """

    path: tuple[str, ...]
    entries: tuple[str, ...]

    def render(self) -> str:
        """``PATH: ENTRY, ...``; neighbouring entries under one key share it (``image.{value,options}``)."""
        path = ".".join(key if _PLAIN_KEY.match(key) else json.dumps(key) for key in self.path)
        grouped: list[tuple[str, list[str]]] = []
        for entry in self.entries:
            head, dot, tail = entry.rpartition(".")
            if dot and grouped and grouped[-1][0] == head:
                grouped[-1][1].append(tail)
            else:
                grouped.append((head, [tail]) if dot else ("", [entry]))
        parts = [
            (f"{head}.{{{','.join(tails)}}}" if len(tails) > 1 else f"{head}.{tails[0]}") if head else tails[0]
            for head, tails in grouped
        ]
        return f"{path}: {', '.join(parts)}" if parts else f"{path}:"

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @classmethod
    def parse(cls, text: str) -> Managed | None:
        path_text, colon, entries_text = text.rpartition(":")
        if not colon or not path_text.strip():
            return None
        path = []
        for token in _KEY_TOKEN.findall(path_text.strip()):
            try:
                path.append(json.loads(token) if token.startswith('"') else token)
            except ValueError:
                return None
        entries: list[str] = []
        for part in re.split(r",\s+", entries_text.strip()):
            grouped = re.fullmatch(r"(.+)\.\{([^{}]*)\}", part)
            if grouped:
                entries.extend(f"{grouped.group(1)}.{tail}" for tail in grouped.group(2).split(",") if tail)
            elif part:
                entries.append(part)
        return cls(tuple(str(key) for key in path), tuple(entries))


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a file's nbcatalog header records.

    ``recorded`` is the hash on the header's last line (whole body, or the managed part when
    ``managed`` is set); both are None for a file nbcatalog did not write.
    """

    recorded: str | None
    managed: Managed | None
    body: str


def read_stamp(text: str) -> Stamp:
    """The header's hash (``# nbcatalog-sha256:`` or ``# nbcatalog-managed-sha256:``) and the body below."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines[:12]):
        stripped = line.rstrip("\r\n")
        match = _HASH_RE.match(stripped)
        if match:
            return Stamp(match.group(1), None, "".join(lines[index + 1 :]))
        managed_match = _MANAGED_RE.match(stripped)
        if managed_match:
            managed = Managed.parse(managed_match.group(2))
            # A part nbcatalog cannot read back names nothing, so its hash never matches: edited by hand.
            managed = managed or Managed((), ())
            return Stamp(managed_match.group(1), managed, "".join(lines[index + 1 :]))
        if not line.startswith("#"):
            break
    return Stamp(None, None, text)


def split_header(text: str) -> tuple[str | None, str]:
    """(recorded hash, body) of a file; (None, text) when it carries no nbcatalog header."""
    stamp = read_stamp(text)
    return stamp.recorded, stamp.body


@dataclass(frozen=True, slots=True)
class ManagedLine:
    """One line of a managed part: its 1-based line number in the file, and its text as hashed."""

    number: int
    text: str


@dataclass(frozen=True, slots=True)
class Segment:
    """One entry of a :class:`Managed` part as it stands in a file (no lines: not in the file)."""

    label: str
    lines: tuple[ManagedLine, ...]


def managed_segments(text: str, managed: Managed, source: str = "file") -> list[Segment]:
    """Each entry of ``managed`` as it stands in ``text`` (a whole file, header or not).

    Lines are normalised so that only what YAML reads, and comments, count: trailing whitespace
    and blank lines are dropped, and each entry's lines are taken relative to its first line's
    indentation. So moving a whole block left or right (the ConfigMap form indents the config by
    four; a merge writes profiles at whatever dash column the admin's list uses) or trailing
    whitespace, neither of which changes what the chart or the web app reads, is not a hand edit,
    while any change to a key, a value, a comment or the nesting is. A line's number is its line
    in ``text`` (in the ConfigMap, for an embedded config), so errors point at the file on disk.
    Raises :class:`~nbcatalog.errors.CatalogError` on text that is not YAML.
    """
    import yaml

    from nbcatalog.exporters import yamlsplice

    inner = text
    number: Callable[[int], int] = _identity_lines
    if managed.path[:1] == ("spawnerFormDefaults",):
        from nbcatalog.exporters.kubeflow import find_embedded

        embedded = find_embedded(text, source)
        if embedded is not None:
            inner = embedded.text
            number = _embedded_lines(embedded.node)
    root = yamlsplice.compose(inner, source)
    found = yamlsplice.find(root, *managed.path) if managed.path else None
    node = found[1] if found is not None else None
    segments = []
    for entry in managed.entries:
        spans: list[tuple[int, int]] = []
        if isinstance(node, yaml.SequenceNode):
            label = f"{managed.dotted} (profile {entry})"
            if node.flow_style is not True and node.value:
                for start, end, item in yamlsplice.sequence_items(node, inner):
                    slug = yamlsplice.child(item, "slug")
                    if slug is not None and isinstance(slug[1], yaml.ScalarNode) and slug[1].value == entry:
                        spans.append((start, end))
        else:
            label = f"{managed.dotted}.{entry}"
            sub = yamlsplice.find(node, *entry.split(".")) if isinstance(node, yaml.MappingNode) else None
            if sub is not None:
                start = yamlsplice.line_start(inner, sub[0].start_mark.index)
                end = _past_notes(inner, yamlsplice.end_of_line(inner, yamlsplice.node_end(sub[1])))
                spans.append((start, end))
        lines: list[ManagedLine] = []
        for start, end in spans:
            first = inner.count("\n", 0, start)
            chunk = inner[start:end].splitlines()
            base = len(chunk[0]) - len(chunk[0].lstrip(" ")) if chunk else 0
            for offset, raw in enumerate(chunk):
                line = raw.rstrip()
                if not line.strip():
                    continue
                lead = len(line) - len(line.lstrip(" "))
                lines.append(ManagedLine(number(first + offset), line[min(lead, base) :]))
        segments.append(Segment(label, tuple(lines)))
    return segments


def _identity_lines(index: int) -> int:
    return index + 1


def _embedded_lines(node: yaml.ScalarNode) -> Callable[[int], int]:
    """0-based line of the embedded text -> 1-based line of the ConfigMap: a ``|`` block keeps lines
    one for one from the line after its header; any other style folds them, so its first line it is."""
    first = int(node.start_mark.line) + 1
    if node.style == "|":
        return lambda index: first + index + 1
    return lambda index: first


def _past_notes(text: str, end: int) -> int:
    """Extend a span over the ``# nbcatalog|`` note lines right after it (the merge rewrites them too)."""
    from nbcatalog.exporters.kubeflow import NOTE_MARK

    while end < len(text):
        newline = text.find("\n", end)
        next_end = len(text) if newline < 0 else newline + 1
        if not text[end:next_end].lstrip(" ").startswith(NOTE_MARK.strip()):
            break
        end = next_end
    return end


def managed_hash(text: str, managed: Managed, source: str = "file") -> str:
    """sha256 of the managed part of ``text``, as :func:`managed_segments` normalises it."""
    digest = hashlib.sha256()
    for segment in managed_segments(text, managed, source):
        digest.update(segment.label.encode("utf-8") + b"\0")
        for line in segment.lines:
            digest.update(line.text.encode("utf-8") + b"\n")
        digest.update(b"\0")
    return digest.hexdigest()


def _managed_current(text: str, stamp: Stamp) -> bool:
    from nbcatalog.errors import CatalogError

    assert stamp.managed is not None
    try:
        return stamp.recorded == managed_hash(text, stamp.managed)
    except CatalogError:  # no longer YAML: nothing to say the managed part is intact
        return False


def edited_by_hand(text: str) -> bool:
    """True when a file has our header but what it hashes no longer matches the recorded value.

    For a merged file with a ``# nbcatalog-managed-sha256:`` line, only the managed part counts:
    the rest of the file is the admin's. A merged file written before that line existed carries a
    whole-body ``# nbcatalog-sha256:`` and is judged by it here (this function has nothing else to
    compare with); ``export`` then looks closer (see ``nbcatalog.exporters.files``).
    """
    stamp = read_stamp(text)
    if stamp.recorded is None:
        return False
    if stamp.managed is not None:
        return not _managed_current(text, stamp)
    return stamp.recorded != body_hash(stamp.body)


def restamp(before: str, after: str) -> str:
    """``after`` with its header's hash renewed, when ``before`` was a generated file untouched by hand.

    ``audit --fix`` rewriting tags in a generated file is nbcatalog's own edit, not a hand edit: without
    this, the next ``export`` (and ``export --check`` in CI) would refuse the file as edited by hand.
    A file already edited by hand stays marked as such. In a merged file that means edited by hand
    inside its managed part: edits to the admin's own keys do not stop the renewal, and the fix may
    rewrite tags on either side (only the managed part's hash changes, and only when it was intact).
    """
    if edited_by_hand(before):
        return after
    stamp = read_stamp(before)
    if stamp.recorded is None:
        return after
    if stamp.managed is not None:
        from nbcatalog.errors import CatalogError

        try:
            renewed = managed_hash(after, stamp.managed)
        except CatalogError:
            return after
        return after.replace(f"{MANAGED_MARKER} {stamp.recorded}", f"{MANAGED_MARKER} {renewed}", 1)
    _, body = split_header(after)
    return after.replace(f"{HASH_MARKER} {stamp.recorded}", f"{HASH_MARKER} {body_hash(body)}", 1)


def dump_yaml_documents(*documents: Any) -> str:
    """Block-style YAML for plain data, keys in insertion order, lists indented under their key."""
    from nbcatalog.yamlio import dump_yaml

    return "---\n".join(dump_yaml(document) for document in documents)


def python_literal(value: Any, indent: int = 0) -> str:
    """Deterministic, readable Python source for JSON-like data (dict order kept)."""
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{json.dumps(str(k))}: {python_literal(v, indent + 4)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = [f"{pad}{python_literal(v, indent + 4)}," for v in value]
        return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)
