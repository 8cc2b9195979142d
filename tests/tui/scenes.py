"""The main screens, reached the way a user reaches them: shared by the snapshot tests and the docs'
screenshots (``python -m tests.tui.scenes docs/screenshots``)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from nbcatalog.demo import build_demo
from nbcatalog.tui.widgets.lineage_tree import LineageTree
from tests.tui.helpers import DEMO_DIR, make_app, settle

Scene = Callable[[Pilot[Any]], Awaitable[None]]


async def catalog(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    pilot.app.screen.query_one(LineageTree).select_name("codeserver")
    await pilot.pause()


async def image_tags(pilot: Pilot[Any]) -> None:
    await catalog(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def image_packages(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    pilot.app.screen.query_one(LineageTree).select_name("jupyter-pytorch-cuda")
    await pilot.pause()
    await pilot.press("enter", "2")
    await settle(pilot)


async def image_cuda(pilot: Pilot[Any]) -> None:
    await image_packages(pilot)
    await pilot.press("4")
    await pilot.pause()


async def diff(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    pilot.app.open_diff("jupyter", "jupyter-pytorch-cuda")  # type: ignore[attr-defined]
    await settle(pilot)


async def profiles(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("p")
    await pilot.pause()


async def tag_picker(pilot: Pilot[Any]) -> None:
    await catalog(pilot)
    await pilot.press("t")
    await settle(pilot)


async def light(pilot: Pilot[Any]) -> None:
    await catalog(pilot)
    await pilot.press("ctrl+t")
    await pilot.pause()


async def help_screen(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


SCENES: dict[str, Scene] = {
    "catalog": catalog,
    "image-tags": image_tags,
    "image-packages": image_packages,
    "image-cuda": image_cuda,
    "diff": diff,
    "profiles": profiles,
    "tag-picker": tag_picker,
    "catalog-light": light,
    "help": help_screen,
}


async def _shoot(name: str, scene: Scene, out: Path, size: tuple[int, int]) -> None:
    app = make_app(build_demo(DEMO_DIR).catalog)
    async with app.run_test(size=size) as pilot:
        await scene(pilot)
        app.save_screenshot(f"{name}.svg", str(out))


def main(argv: list[str]) -> None:
    out = Path(argv[0] if argv else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    for name, scene in SCENES.items():
        asyncio.run(_shoot(name, scene, out, (100, 30)))
    asyncio.run(_shoot("catalog-80x24", catalog, out, (80, 24)))


if __name__ == "__main__":
    main(sys.argv[1:])
