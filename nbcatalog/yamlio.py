"""File writes that never leave a half-written file, and YAML that keeps the user's comments.

A write goes to a temp file in the same directory, is flushed and fsynced, then renamed over the
target: a reader (or a crash at any point) sees the old file or the new one, nothing between.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any

from nbcatalog.errors import BadInputError, CatalogError, FileWriteError


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path`` with ``text`` atomically, with the mode a user expects.

    A replaced file keeps its mode; a new one gets ``0666 & ~umask`` (0644 under umask 022), as
    ``open()`` would give it. mkstemp's 0600 must not survive the rename: a profile only its writer
    can read breaks git, CI and kustomize for everyone else on the machine.

    A symlink (a catalog kept in a git checkout, linked from elsewhere) is written through: the file
    it points to is replaced, and the link stays a link. Anything else that is not a regular file
    (``/dev/null``, a FIFO, a directory) is refused, never replaced by the rename.
    """
    from nbcatalog.localfiles import NotRegularFileError, refuse_non_regular

    target = Path(os.path.realpath(path))
    try:
        refuse_non_regular(target)
    except NotRegularFileError as exc:
        raise FileWriteError(f"cannot write: {exc.message}, so it is not replaced", where=str(path)) from None
    try:
        _replace_atomically(target, text)
    except OSError as exc:  # one line naming the file, never a traceback; the old file is untouched
        raise FileWriteError(f"cannot write: {exc.strerror or exc}", where=str(path)) from None
    _fsync_dir(target.parent)


def _replace_atomically(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~current_umask()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def current_umask() -> int:
    """The process umask, read without changing it where Linux says it (``/proc/self/status``).

    Elsewhere it is set and put back at once: ``os.umask`` has no read-only form.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


# --- YAML that keeps comments, order and anchors -------------------------------------------------


def _round_trip_yaml() -> Any:
    """A ruamel round-trip instance: comments, key order, anchors and quoting survive a dump."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.Constructor = _lenient_constructor()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


#: The default of the ``yaml-depth`` limit (:mod:`nbcatalog.limits`): the deepest flow nesting
#: (``[[[...`` / ``{{{...``) any YAML nbcatalog reads may have. Real files stay under 10; the
#: libraries' own limits differ by loader and version (PyYAML 6.0.4's C loader stops at 1000 with its
#: own message, the pure loader and ruamel recurse until RecursionError), so the one check that gives
#: the same error everywhere is ours, before any parser runs.
MAX_YAML_NESTING = 200


class YamlLimitError(CatalogError):
    """YAML refused before parsing for its shape (nesting, alias expansion), not for its syntax."""


def check_yaml(text: str, source: str, *, round_trip: bool = False) -> None:
    """The checks every YAML parse in nbcatalog runs first: flow nesting, then alias expansion.

    ``round_trip``: the text is for ruamel's parser (YAML 1.2), whose events are scanned instead of
    PyYAML's, so that what the scan reads is what the real parser will read.
    """
    check_nesting(text, source)
    check_aliases(text, source, round_trip=round_trip)


_FLOW_OPENERS_AFTER = frozenset(":-,[{?")


def check_nesting(text: str, source: str, limit: int | None = None) -> None:
    """Refuse flow collections nested deeper than ``limit`` (default: the ``yaml-depth`` limit in
    force), naming ``source:line:col`` of the bracket.

    A scan of the raw text, independent of the YAML library: quoted scalars and comments are skipped,
    and a bracket outside any collection counts only where YAML would read it as one (at the start of a
    value), so ``key: a[b`` is not nesting. Block (indentation) nesting needs the text to grow with the
    square of the depth and is left to the parsers' RecursionError handling.
    """
    if "[" not in text and "{" not in text:
        return
    if limit is None:
        from nbcatalog import limits

        limit = limits.current().yaml_depth
    depth = 0
    line = 1
    line_start = 0
    quote = ""
    prev = ""  # last significant character outside scalars on this line
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                if quote == "'" and i + 1 < n and text[i + 1] == "'":
                    i += 2
                    continue
                quote = ""
                prev = "x"
            elif ch == "\n":
                line += 1
                line_start = i + 1
            i += 1
            continue
        if ch == "\n":
            line += 1
            line_start = i + 1
            prev = ""
        elif ch == "#" and (i == 0 or text[i - 1] in " \t\n"):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch in "'\"" and (depth or prev in _FLOW_OPENERS_AFTER or prev == ""):
            quote = ch
        elif ch in "[{" and (depth or prev in _FLOW_OPENERS_AFTER or prev == ""):
            depth += 1
            if depth > limit:
                raise YamlLimitError(_nested_message(limit), where=f"{source}:{line}:{i - line_start + 1}")
            prev = ch
        elif ch in "]}" and depth:
            depth -= 1
            prev = "x"
        elif ch not in " \t\r":
            prev = ch if ch in ",:-?" else "x"
        i += 1


def _nested_message(limit: int) -> str:
    from nbcatalog import limits

    active = limits.current()
    hint = f"; {active.hint('yaml_depth')}" if limit == active.yaml_depth else ""
    return f"YAML nested too deeply (more than {limit} levels{hint})"


def check_aliases(text: str, source: str, budget: int | None = None, *, round_trip: bool = False) -> None:
    """Refuse YAML whose aliases (``*name``) would expand to more than ``budget`` nodes (default: the
    ``yaml-alias-nodes`` limit in force), naming ``source:line:col`` of the alias that passes it.

    A "billion laughs" file is a few hundred bytes of anchors that alias each other, level upon
    level; the parsers share the aliased nodes, but any walk of the result (validation, a dump, a
    merge) visits each copy. So the parser's events are streamed first: each anchored node's size
    counts the nodes inside it, aliases inside it at their own expanded size, and every alias adds
    its anchor's size to the file's total. Text without ``*`` or ``&`` has no aliases and is not
    scanned; a syntax error ends the scan, and the real parser reports it with its own message.

    The events are PyYAML's C parser's (a 300 KiB file in ~50 ms); for ``round_trip`` text that
    PyYAML cannot parse (YAML 1.2 that 1.1 refuses), ruamel's own parser scans it instead.
    """
    if "*" not in text or "&" not in text:
        return
    from nbcatalog import limits

    active = limits.current()
    limit = active.yaml_alias_nodes if budget is None else budget
    for scan in (_pyyaml_events, _ruamel_events) if round_trip else (_pyyaml_events,):
        events, errors = scan(text)
        try:
            added = _alias_nodes(events, limit)
        except errors:
            continue  # not this parser's YAML: the next one (else the real parser) says what is wrong
        if added is None:
            return
        what = f"YAML aliases expand to more than {limit} nodes"
        shown = active.reached("yaml_alias_nodes", what) if limit == active.yaml_alias_nodes else what
        raise YamlLimitError(shown, where=f"{source}:{added[0] + 1}:{added[1] + 1}")


def _alias_nodes(events: Any, budget: int) -> tuple[int, int] | None:
    """The 0-based (line, column) of the alias that takes the nodes aliases add past ``budget``."""
    sizes: dict[str, int] = {}
    open_sizes: list[int] = []  # nodes so far in each collection still open (itself included)
    open_anchors: list[str | None] = []
    added = 0
    for event in events:
        name = type(event).__name__
        if name == "DocumentStartEvent":
            sizes.clear()  # anchors are per document; the total is per file
            continue
        if name in ("SequenceStartEvent", "MappingStartEvent"):
            open_sizes.append(1)
            open_anchors.append(event.anchor)
            continue
        if name in ("SequenceEndEvent", "MappingEndEvent"):
            size, anchor = open_sizes.pop(), open_anchors.pop()
        elif name == "ScalarEvent":
            size, anchor = 1, event.anchor
        elif name == "AliasEvent":
            size, anchor = sizes.get(event.anchor, 1), None
            added += size
            if added > budget:
                return event.start_mark.line, event.start_mark.column
        else:
            continue
        if anchor:
            sizes[anchor] = size
        if open_sizes:
            open_sizes[-1] += size
    return None


def _pyyaml_events(text: str) -> tuple[Any, tuple[type[BaseException], ...]]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.parse(text, Loader=loader), (yaml.YAMLError, ValueError, RecursionError)


def _ruamel_events(text: str) -> tuple[Any, tuple[type[BaseException], ...]]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    return YAML(typ="rt").parse(text), (YAMLError, ValueError, RecursionError)


_LENIENT_CONSTRUCTOR: Any = None


def _lenient_constructor() -> Any:
    """ruamel's round-trip constructor, except that plain scalars its number resolver misreads stay text.

    ruamel resolves ``-_`` or ``._`` as an int or a float and then crashes converting them (IndexError,
    ValueError). YAML 1.2's core schema says they are strings, as PyYAML reads them, so that is what
    they become here.
    """
    global _LENIENT_CONSTRUCTOR
    if _LENIENT_CONSTRUCTOR is not None:
        return _LENIENT_CONSTRUCTOR
    from ruamel.yaml.constructor import RoundTripConstructor

    class LenientConstructor(RoundTripConstructor):
        def construct_yaml_int(self, node: Any) -> Any:
            try:
                return super().construct_yaml_int(node)
            except (ValueError, IndexError):
                return self.construct_yaml_str(node)

        def construct_yaml_float(self, node: Any) -> Any:
            try:
                return super().construct_yaml_float(node)
            except (ValueError, IndexError):
                return self.construct_yaml_str(node)

    LenientConstructor.add_constructor("tag:yaml.org,2002:int", LenientConstructor.construct_yaml_int)
    LenientConstructor.add_constructor("tag:yaml.org,2002:float", LenientConstructor.construct_yaml_float)
    _LENIENT_CONSTRUCTOR = LenientConstructor
    return LenientConstructor


def load_yaml(text: str, source: str) -> Any:
    """Parse ``text`` round-trip; a syntax error becomes a CatalogError naming ``source:line:col``."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    check_yaml(text, source, round_trip=True)
    try:
        return _round_trip_yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        problem = exc.problem or exc.context or "invalid YAML"
        raise CatalogError(f"YAML syntax error: {problem}", where=where) from None
    except YAMLError as exc:
        raise CatalogError(f"YAML error: {exc}", where=source) from None
    except RecursionError:  # hostile nesting such as [[[[...]]]]
        raise CatalogError("YAML nested too deeply", where=source) from None
    except (ValueError, IndexError, TypeError, OverflowError) as exc:  # a ruamel constructor bug we don't know yet
        raise CatalogError(f"YAML value that cannot be read ({type(exc).__name__}: {exc})", where=source) from None


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """Load a YAML file round-trip; unreadable files become CatalogError (exit 2)."""
    return load_yaml(read_text(path), str(path))


def dump_yaml(data: Any, *, indent: tuple[int, int, int] | None = None) -> str:
    """Serialise round-trip data (or plain dicts/lists) to text, keeping comments and anchors."""
    yaml = _round_trip_yaml()
    if indent is not None:
        mapping, sequence, offset = indent
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def key_position(node: Any, key: object) -> tuple[int, int] | None:
    """1-based (line, column) of ``key`` in a loaded mapping, or None for data built in memory."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        line, col = lc.key(key)
    except (KeyError, TypeError, AttributeError):
        return None
    return (line + 1, col + 1) if line is not None else None


def value_position(node: Any, key: object) -> tuple[int, int] | None:
    """1-based (line, column) where the value of ``key`` starts."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        line, col = lc.value(key)
    except (KeyError, TypeError, AttributeError):
        return None
    return (line + 1, col + 1) if line is not None else None


def item_position(node: Any, index: int) -> tuple[int, int] | None:
    """1-based (line, column) of item ``index`` in a loaded sequence."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        line, col = lc.item(index)
    except (KeyError, TypeError, AttributeError, IndexError):
        return None
    return (line + 1, col + 1) if line is not None else None


def node_position(node: Any) -> tuple[int, int] | None:
    """1-based (line, column) where a loaded mapping or sequence starts."""
    lc = getattr(node, "lc", None)
    if lc is None or getattr(lc, "line", None) is None:
        return None
    return (lc.line + 1, lc.col + 1)


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a UTF-8 text file through :mod:`nbcatalog.localfiles` (a regular file, within the
    ``file-bytes`` limit); a file that cannot be read is a CatalogError (exit 2) naming it."""
    from nbcatalog import localfiles

    try:
        return localfiles.read_text(path)
    except CatalogError:
        raise
    except BadInputError as exc:
        raise CatalogError(exc.message, where=exc.where) from None


def guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) indentation the file already uses, so a dump keeps its layout."""
    mapping = sequence = offset = None
    lines = text.splitlines()
    for index, line in enumerate(lines):
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if stripped.startswith("- ") and index > 0 and offset is None:
            parent = _previous_content_line(lines, index)
            if parent is not None and parent.rstrip().endswith(":"):
                parent_indent = len(parent) - len(parent.lstrip(" "))
                offset = indent - parent_indent
                dash_body = stripped[2:]
                sequence = offset + 2 + (len(dash_body) - len(dash_body.lstrip(" ")))
        elif mapping is None and indent > 0 and not stripped.startswith("- "):
            parent = _previous_content_line(lines, index)
            if parent is not None and parent.rstrip().endswith(":") and not parent.lstrip().startswith("- "):
                mapping = indent - (len(parent) - len(parent.lstrip(" ")))
    return (mapping or 2, sequence or 4, offset if offset is not None else 2)


def _previous_content_line(lines: list[str], index: int) -> str | None:
    for line in reversed(lines[:index]):
        if line.strip() and not line.lstrip().startswith("#"):
            return line
    return None
