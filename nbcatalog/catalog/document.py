"""catalog.yaml as an editable round-trip document: the terminal app's edits keep the admins' layout."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nbcatalog.catalog.model import IMAGE_KEYS, GpuMode
from nbcatalog.catalog.validate import catalog_from_data
from nbcatalog.errors import CatalogError


def _set_key(entry: Any, key: str, value: Any) -> None:
    """Set ``key`` in a round-trip mapping; a new key goes below the last one but above the comment
    lines that followed it (ruamel keeps them on the last key), so a comment that heads the next
    entry or ends the file stays where the admin put it, and an end-of-line comment stays on its line."""
    if key in entry or not len(entry):
        entry[key] = value
        return
    following = _take_following_lines(entry)
    entry[key] = value
    _give_following_lines(entry, following)


def _pop_key(entry: Any, key: str) -> None:
    """Remove ``key``; the comment lines below it (when it was the last key) stay in the file."""
    if key not in entry:
        return
    last = list(entry.keys())[-1] == key and len(entry) > 1
    following = _take_following_lines(entry) if last else ""
    del entry[key]
    _give_following_lines(entry, following)


def _take_following_lines(entry: Any) -> str:
    """Detach the whole comment lines after the last key's line (its end-of-line comment stays)."""
    if not len(entry):
        return ""
    tokens = entry.ca.items.get(list(entry.keys())[-1])
    token = tokens[2] if tokens and len(tokens) > 2 else None
    text = getattr(token, "value", None)
    if token is None or not isinstance(text, str) or "\n" not in text[:-1]:
        return ""
    end_of_line = text.index("\n") + 1
    token.value = text[:end_of_line]
    return text[end_of_line:]


def _give_following_lines(entry: Any, following: str) -> None:
    """Attach comment lines after the last key of ``entry`` (after its own end-of-line comment)."""
    if not following or not len(entry):
        return
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    tokens = entry.ca.items.setdefault(list(entry.keys())[-1], [None, None, None, None])
    while len(tokens) < 4:
        tokens.append(None)
    if tokens[2] is not None and isinstance(tokens[2].value, str):
        tokens[2].value += following
    else:
        tokens[2] = CommentToken("\n" + following, CommentMark(0), None)


#: Edits the app can take back; older ones are forgotten (each holds a copy of the catalog).
MAX_UNDO = 200


def _shown(value: Any) -> str:
    return "(none)" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


class ChangedOnDiskError(CatalogError):
    """Someone else wrote catalog.yaml since it was loaded: saving would silently drop their change."""


class CatalogDocument:
    """catalog.yaml as an editable round-trip document: each edit is validated, ``save()`` is atomic.

    An edit that would make the catalog invalid raises CatalogError and leaves the document as it was.
    """

    def __init__(self, path: str | Path, data: Any, text: str, indent: tuple[int, int, int]) -> None:
        self.path = Path(path)
        self.data = data
        self._loaded_text = text
        self._indent = indent
        self._preamble = ""  # the comments of a file that held no YAML yet (ruamel has nowhere to keep them)
        self.catalog = catalog_from_data(data, str(self.path))
        # Undo: (label, the data before the edit), newest last. Edits since the last save are the
        # labels from _saved_depth on; undoing past a save records what it took back.
        self._history: list[tuple[str, Any]] = []
        self._saved_depth = 0
        self._undone_past_save: list[str] = []

    @classmethod
    def load(cls, path: str | Path) -> CatalogDocument:
        from nbcatalog.yamlio import guess_indent, load_yaml, read_text

        text = read_text(path)
        data = load_yaml(text, str(path))
        if data is None:
            from ruamel.yaml.comments import CommentedMap

            data = CommentedMap()
            document = cls(path, data, text, guess_indent(text))
            document._preamble = text if text.endswith("\n") or not text else text + "\n"
            return document
        return cls(path, data, text, guess_indent(text))

    def text(self) -> str:
        from nbcatalog.yamlio import dump_yaml

        body = dump_yaml(self.data, indent=self._indent) if self.data else ""
        return self._preamble + body

    def save(self, *, force: bool = False) -> None:
        """Write atomically; refuse when someone else changed the file since it was loaded."""
        from nbcatalog.localfiles import read_text_if_exists
        from nbcatalog.yamlio import atomic_write_text

        on_disk = read_text_if_exists(self.path, what="the catalog")
        if on_disk is None:
            on_disk = self._loaded_text
        if on_disk != self._loaded_text and not force:
            raise ChangedOnDiskError("changed on disk since it was loaded; reload before saving", where=str(self.path))
        text = self.text()
        atomic_write_text(self.path, text)
        self._loaded_text = text
        self._saved_depth = len(self._history)
        self._undone_past_save = []

    # -- undo and what a save would write -------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """Whether a save would change the file (an edit undone back to the saved text is not one)."""
        return self.text() != self._loaded_text

    def unsaved_edits(self) -> list[str]:
        """What changed since the file was loaded or saved, one label per edit, oldest first."""
        if not self.dirty:
            return []
        undone = [f"undo: {label}" for label in self._undone_past_save]
        return undone + [label for label, _ in self._history[self._saved_depth :]]

    def pending_diff(self) -> str:
        """The unified diff of what ``save()`` would write against the file as loaded or last saved."""
        import difflib

        before, after = self._loaded_text.splitlines(keepends=True), self.text().splitlines(keepends=True)
        name = self.path.name
        return "".join(difflib.unified_diff(before, after, f"{name} (saved)", f"{name} (unsaved)"))

    def can_undo(self) -> bool:
        return bool(self._history)

    def undo(self) -> str | None:
        """Take back the newest edit (each call one more); its label, or None when there is none."""
        if not self._history:
            return None
        label, before = self._history.pop()
        if len(self._history) < self._saved_depth:  # undoing an edit that is already saved
            self._saved_depth = len(self._history)
            self._undone_past_save.append(label)
        self.data = before
        self.catalog = catalog_from_data(self.data, str(self.path))
        return label

    # -- edits --------------------------------------------------------------------------------

    def set_tag(self, name: str, tag: str, *, digest: str | None = None) -> None:
        """Move an image to a new tag; a digest pin is replaced (or dropped) with it."""

        def edit(entry: Any) -> None:
            entry["tag"] = tag
            if digest is not None:
                _set_key(entry, "digest", digest)
            elif "digest" in entry:
                _pop_key(entry, "digest")

        old = self._entry(name).get("tag")
        self._edit_entry(name, edit, f"{name}: tag {old} → {tag}")

    def set_field(self, name: str, key: str, value: Any) -> None:
        """Set one key of an entry (``None`` removes it); the key must be one the schema knows."""
        if key not in IMAGE_KEYS or (key == "name" and value is None):
            raise CatalogError(f"cannot set {key!r} on an image", where=str(self.path))

        def edit(entry: Any) -> None:
            if value is None:
                _pop_key(entry, key)
            else:
                _set_key(entry, key, value)

        old = self._entry(name).get(key)
        self._edit_entry(name, edit, f"{name}: {key} {_shown(old)} → {_shown(value)}")

    def set_parent(self, name: str, parent: str | None) -> None:
        self.set_field(name, "parent", parent)

    def set_kind(self, name: str, kind: str) -> None:
        self.set_field(name, "kind", kind)

    def set_gpu(self, name: str, gpu: GpuMode) -> None:
        self.set_field(name, "gpu", gpu)

    def set_default(self, name: str) -> None:
        """Make ``name`` the default image: the flag moves, other entries keep their layout."""

        def edit() -> None:
            for entry in self._entries():
                if entry.get("name") == name:
                    _set_key(entry, "default", True)
                elif "default" in entry:
                    entry["default"] = False

        self._entry(name)
        self._transaction(edit, f"{name}: made the default")

    def add_image(self, fields: Mapping[str, Any], *, after: str | None = None) -> None:
        """Append an entry (or insert it after ``after``), keys in the schema's order."""
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        entry = CommentedMap()
        for key in IMAGE_KEYS:
            if key in fields and fields[key] is not None:
                entry[key] = fields[key]
        unknown = set(fields) - set(IMAGE_KEYS)
        if unknown:
            raise CatalogError(f"unknown image keys: {', '.join(sorted(unknown))}", where=str(self.path))

        def edit() -> None:
            if not isinstance(self.data.get("images"), list):
                self.data["images"] = CommentedSeq()
            images = self.data["images"]
            index = len(images)
            if after is not None:
                index = next(i for i, e in enumerate(images) if e.get("name") == after) + 1
            # comment lines below the entry before (the next entry's heading, the file's end) go below the new one
            following = _take_following_lines(images[index - 1]) if index > 0 else ""
            images.insert(index, entry)
            _give_following_lines(entry, following)

        if after is not None:
            self._entry(after)
        self._transaction(edit, f"added {fields.get('name')}")

    def remove_image(self, name: str) -> None:
        """Remove an entry; refused while other entries name it as their parent."""
        children = [image.name for image in self.catalog.children(name)]
        if children:
            raise CatalogError(
                f"cannot remove {name!r}: it is the parent of {', '.join(children)}", where=str(self.path)
            )
        self._entry(name)

        def edit() -> None:
            images = self.data["images"]
            index = next(i for i, e in enumerate(images) if e.get("name") == name)
            following = _take_following_lines(images[index])  # e.g. a heading of the next entry
            del images[index]
            if index > 0:
                _give_following_lines(images[index - 1], following)
            elif following and index < len(images):
                from ruamel.yaml.error import CommentMark
                from ruamel.yaml.tokens import CommentToken

                tokens = self.data.ca.items.setdefault("images", [None, None, None, None])
                tokens[3] = [*(tokens[3] or []), CommentToken(following, CommentMark(0), None)]

        self._transaction(edit, f"removed {name}")

    # -- machinery ----------------------------------------------------------------------------

    def _entries(self) -> list[Any]:
        images = self.data.get("images") if isinstance(self.data, Mapping) else None
        return list(images) if isinstance(images, list) else []

    def _entry(self, name: str) -> Any:
        for entry in self._entries():
            if isinstance(entry, Mapping) and entry.get("name") == name:
                return entry
        raise CatalogError(f"no image named {name!r} in the catalog", where=str(self.path))

    def _edit_entry(self, name: str, edit: Any, label: str) -> None:
        entry = self._entry(name)
        self._transaction(lambda: edit(entry), label)

    def _transaction(self, edit: Any, label: str) -> None:
        """Apply ``edit``; if the result does not validate, restore the previous document.

        A successful edit that changed anything is remembered (with ``label``) for :meth:`undo`.
        """
        import copy

        backup = copy.deepcopy(self.data)
        edit()
        try:
            self.catalog = catalog_from_data(self.data, str(self.path))
        except CatalogError:
            self.data = backup
            raise
        self._history.append((label, backup))
        if len(self._history) > MAX_UNDO:
            del self._history[0]
            self._saved_depth = max(0, self._saved_depth - 1)
