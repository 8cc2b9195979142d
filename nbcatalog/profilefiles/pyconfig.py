"""``jupyterhub_config.py`` read with :mod:`ast`, never run: ``c.KubeSpawner.*`` literal assignments.

What is not a literal (a ``profile_list`` built by a function, from variables or by ``.append``, an
image taken from a name) cannot be read without running the file, which nbcatalog never does: each
such place becomes an :class:`~nbcatalog.profilefiles.model.Unread`, so the audit says what it
could not see instead of reporting "no findings".
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from nbcatalog.errors import BadInputError
from nbcatalog.profilefiles.jupyterhub import ProfileWalker
from nbcatalog.profilefiles.model import Position, ProfileImage, Scheduling, Unread
from nbcatalog.profilefiles.yamlpos import PosDict, PosList, PosStr


class PythonReader:
    """Reads ``c.KubeSpawner.*`` / ``c.Spawner.*`` assignments of literals with :mod:`ast`."""

    TRAITS = ("image", "image_spec", "profile_list", "node_selector", "tolerations", "extra_resource_limits")
    IMAGE_TRAITS = ("image", "image_spec", "profile_list")
    #: Keys whose value must be a literal for the images to be known.
    IMAGE_KEYS = ("image", "image_spec", "kubespawner_override", "profile_options", "choices", "unlisted_choice")

    def __init__(self, path: str, text: str) -> None:
        self.path, self.text, self.lines = path, text, text.splitlines()
        self.unread: list[Unread] = []

    def read(self, *, required: bool = True) -> list[ProfileImage]:
        """The literal images; ``required=False`` (a ``hub.extraConfig`` snippet) allows none at all.

        A file too deeply nested for :mod:`ast` (or for the walk of its literals), such as an
        expression of 200,000 terms, is bad input naming the file, never a RecursionError.
        """
        try:
            return self._read(required)
        except (RecursionError, MemoryError):
            raise BadInputError(
                "too deeply nested to read (deeper than Python's own parser goes)", where=self.path
            ) from None

    def _read(self, required: bool) -> list[ProfileImage]:
        try:
            tree = ast.parse(self.text, filename=self.path)
        except SyntaxError as exc:
            raise BadInputError(f"invalid Python: {exc.msg}", where=f"{self.path}:{exc.lineno}") from None
        config: dict[str, Any] = {}
        for statement in ast.walk(tree):
            if isinstance(statement, ast.Assign):
                targets, value = statement.targets, statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                targets, value = [statement.target], statement.value
            elif isinstance(statement, ast.AugAssign):
                targets, value = [statement.target], None  # profile_list += [...]: built up by code
            else:
                self.note_mutation(statement)
                continue
            for target in targets:
                name = _config_name(target)
                if name in self.TRAITS:
                    if value is None:
                        self.dynamic(target, f"c.KubeSpawner.{name} is extended by code")
                        continue
                    config[name] = self.literal(value)
                    if name in self.IMAGE_TRAITS:
                        self.check_literal(value, config[name], f"c.KubeSpawner.{name}")
        if not config and not self.unread and required:
            raise BadInputError(
                "no c.KubeSpawner.profile_list / image assignment found (not a jupyterhub_config.py?)",
                where=self.path,
            )
        base = Scheduling(
            node_selector={str(k): str(v) for k, v in _mapping(config.get("node_selector")).items()},
            tolerations=tuple(t for t in config.get("tolerations") or () if isinstance(t, Mapping)),
            resource_limits={str(k): str(v) for k, v in _mapping(config.get("extra_resource_limits")).items()},
        )
        image = config.get("image", config.get("image_spec"))
        profiles = config.get("profile_list")
        if "profile_list" in config and profiles is not None and not isinstance(profiles, list):
            self.unread.append(Unread(self.path, 1, 1, "unreadable-profiles", "c.KubeSpawner.profile_list is no list"))
        walker = ProfileWalker(self.path, self.lines, "kubespawner")
        return walker.walk(image, base, profiles if isinstance(profiles, list) else [], "c.KubeSpawner")

    def literal(self, node: ast.AST) -> Any:
        position = self.position(node) if isinstance(node, ast.expr) else (1, 1)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                text = PosStr(node.value)
                text.position = position
                return text
            return node.value
        if isinstance(node, ast.Dict):
            result = PosDict()
            result.positions, result.key_positions, result.position = {}, {}, position
            for key_node, value_node in zip(node.keys, node.values, strict=True):
                if isinstance(key_node, ast.Constant) and isinstance(key_node.value, (str, int)):
                    result[key_node.value] = self.literal(value_node)
                    result.positions[key_node.value] = self.position(value_node)
            return result
        if isinstance(node, (ast.List, ast.Tuple)):
            items = PosList()
            items.positions, items.position = {}, position
            for index, element in enumerate(node.elts):
                items.append(self.literal(element))
                items.positions[index] = self.position(element)
            return items
        return None  # a call, a name, an f-string: not a literal, not guessed at

    def dynamic(self, node: ast.AST, what: str) -> None:
        line, col = self.position(node) if isinstance(node, ast.expr) else (getattr(node, "lineno", 1), 1)
        self.unread.append(
            Unread(
                self.path,
                line,
                col,
                "unreadable-profiles",
                f"{what}: nbcatalog reads literals only and never runs the file",
            )
        )

    def note_mutation(self, statement: ast.AST) -> None:
        """``c.KubeSpawner.profile_list.append(...)`` / ``.extend(...)``: profiles added by code."""
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            func = statement.value.func
            if isinstance(func, ast.Attribute) and _config_name(func.value) in self.IMAGE_TRAITS:
                self.dynamic(func.value, f"c.KubeSpawner.{_config_name(func.value)} is changed by .{func.attr}()")

    def check_literal(self, node: ast.AST, value: Any, what: str) -> None:
        """Report the first non-literal where an image, a profile or an override should be."""
        if value is None:
            kind = type(node).__name__.lower()
            self.dynamic(node, f"{what} is built by code (a {kind}, not a literal)")
            return
        if isinstance(node, (ast.List, ast.Tuple)):
            for index, element in enumerate(node.elts):
                self.check_literal(element, value[index] if index < len(value) else None, f"{what}[{index}]")
        elif isinstance(node, ast.Dict):
            for key_node, value_node in zip(node.keys, node.values, strict=True):
                if isinstance(key_node, ast.Constant) and key_node.value in self.IMAGE_KEYS:
                    self.check_literal(value_node, value.get(key_node.value), f"{what}[{key_node.value!r}]")
                elif isinstance(key_node, ast.Constant) and isinstance(value.get(key_node.value), dict):
                    # profile_options' option names and choice names are the admin's own keys
                    self.check_literal(value_node, value.get(key_node.value), f"{what}[{key_node.value!r}]")
                elif key_node is None:  # {**other}: merged in from elsewhere
                    self.dynamic(value_node, f"{what} merges in {{**...}}")

    def position(self, node: ast.expr) -> Position:
        return node.lineno, self.char_col(node.lineno, node.col_offset)

    def char_col(self, lineno: int, byte_col: int) -> int:
        """ast counts UTF-8 bytes; the file and editors count characters (1-based here)."""
        line = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""
        return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore")) + 1


def _config_name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute):
        owner = target.value
        if isinstance(owner.value, ast.Name) and owner.value.id == "c" and owner.attr in ("KubeSpawner", "Spawner"):
            return target.attr
    return None


def _mapping(value: Any) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}
