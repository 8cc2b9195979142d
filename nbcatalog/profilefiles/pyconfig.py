"""``jupyterhub_config.py`` read with :mod:`ast`, never run: ``c.KubeSpawner.*`` literal assignments."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from nbcatalog.errors import BadInputError
from nbcatalog.profilefiles.jupyterhub import ProfileWalker
from nbcatalog.profilefiles.model import Position, ProfileImage, Scheduling
from nbcatalog.profilefiles.yamlpos import PosDict, PosList, PosStr


class PythonReader:
    """Reads ``c.KubeSpawner.*`` / ``c.Spawner.*`` assignments of literals with :mod:`ast`."""

    TRAITS = ("image", "image_spec", "profile_list", "node_selector", "tolerations", "extra_resource_limits")

    def __init__(self, path: str, text: str) -> None:
        self.path, self.text, self.lines = path, text, text.splitlines()

    def read(self) -> list[ProfileImage]:
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
            else:
                continue
            for target in targets:
                name = _config_name(target)
                if name in self.TRAITS:
                    config[name] = self.literal(value)
        if not config:
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
