"""An upgrade plan as release notes: per image, what changes for users, ready to paste into an announcement.

Each image's notes are :func:`nbcatalog.releasenotes.diff_markdown`'s (the same words and escaping
as ``diff --format markdown``), with the plan's facts added under the heading: the download each node
makes, CUDA and the driver it needs, Kubeflow readiness, and what makes the move risky. Every value
from an image or a registry goes through :func:`~nbcatalog.releasenotes.markdown_text`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from nbcatalog.localfiles import human_size
from nbcatalog.releasenotes import DEFAULT_HIGHLIGHTS, diff_markdown, markdown_text

if TYPE_CHECKING:
    from nbcatalog.cuda import CudaInfo
    from nbcatalog.nodedisk import NodeDisk
    from nbcatalog.plan import CatalogPlan, ImagePlan


def cuda_text(info: CudaInfo | None) -> str:
    """``12.4.1 (driver >= 525)``, ``CUDA`` when no version is known, ``none`` for a CPU image."""
    if info is None:
        return "none"
    driver = f" (driver >= {info.min_driver})" if info.min_driver else ""
    return f"{info.version or 'CUDA'}{driver}"


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def _facts(plan: ImagePlan) -> list[str]:
    lines = []
    if plan.pull_bytes is not None and plan.candidate_bytes is not None:
        lines.append(
            f"- download on each node: {markdown_text(human_size(plan.pull_bytes))} "
            f"(of {markdown_text(human_size(plan.candidate_bytes))} compressed)"
        )
    if plan.cuda_from is not None or plan.cuda_to is not None:
        lines.append(f"- CUDA: {markdown_text(cuda_text(plan.cuda_from))} → {markdown_text(cuda_text(plan.cuda_to))}")
    if plan.kubeflow_from != plan.kubeflow_to:
        lines.append(f"- Kubeflow-ready: {_yes_no(plan.kubeflow_from)} → {_yes_no(plan.kubeflow_to)}")
    lines += [f"- **check before rolling out:** {markdown_text(reason)}" for reason in plan.reasons]
    lines += [
        f"- policy ({markdown_text(v.severity)}): {markdown_text(v.message)}"
        for v in plan.policy
        if v.severity != "error"  # errors are among the reasons already
    ]
    return lines


def image_markdown(plan: ImagePlan, wanted: Sequence[str] = DEFAULT_HIGHLIGHTS) -> str:
    """One image's notes; "" when it does not move (no candidate, or it could not be planned)."""
    if plan.error or plan.candidate is None or plan.current_side is None or plan.candidate_side is None:
        return ""
    notes = diff_markdown(plan.current_side, plan.candidate_side, plan.package_changes, wanted).splitlines()
    # diff_markdown opens with: heading, blank, "- before: …", "- after: …"; the facts extend that list
    return "\n".join([*notes[:4], *_facts(plan), *notes[4:]]) + "\n"


def images_text(count: int) -> str:
    """``1 image``, ``3 images``."""
    return f"{count} image{'' if count == 1 else 's'}"


def _node_disk_lines(disk: NodeDisk) -> list[str]:
    lines = [
        "## Node disk",
        "",
        f"- every image: {markdown_text(human_size(disk.total_bytes))} in {disk.layers} layers",
        f"- GPU nodes ({images_text(len(disk.gpu_images))}): {markdown_text(human_size(disk.gpu_bytes))}",
        f"- CPU nodes ({images_text(len(disk.cpu_images))}): {markdown_text(human_size(disk.cpu_bytes))}",
    ]
    if disk.errors:
        lines.append(f"- not counted (unreadable): {markdown_text(', '.join(disk.errors))}")
    return [*lines, ""]


def plan_markdown(plan: CatalogPlan, wanted: Sequence[str] = DEFAULT_HIGHLIGHTS) -> str:
    """The whole plan's notes: each moving image's, then those that stay and those not planned."""
    lines = ["# Notebook image updates", ""]
    moving = [image_markdown(image, wanted) for image in plan.images]
    if not any(moving):
        lines += ["No image changes.", ""]
    text = "\n".join(lines) + "\n" + "".join(notes + "\n" for notes in moving if notes)
    tail: list[str] = []
    same = [image for image in plan.images if image.candidate is None and not image.error]
    if same:
        tail += ["## Unchanged", "", *(f"- {markdown_text(i.name)} ({markdown_text(i.current)})" for i in same), ""]
    failed = [image for image in plan.images if image.error]
    if failed:
        tail += ["## Not planned", "", *(f"- {markdown_text(i.name)}: {markdown_text(i.error)}" for i in failed), ""]
    if plan.node_disk is not None:
        tail += _node_disk_lines(plan.node_disk)
    return text + "\n".join(tail)
