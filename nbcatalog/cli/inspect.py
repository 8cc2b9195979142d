"""``nbcatalog inspect REF``: manifest, config, layers and history of one image (one platform)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbcatalog.session import Session


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "reference",
        metavar="REF",
        help="an image reference (e.g. quay.io/jupyter/scipy-notebook:2024-05-27) or a catalog entry's name",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--deep",
        action="store_true",
        help="also read the layers: /etc/passwd for the Kubeflow user checks, packages for CUDA evidence",
    )
    parser.add_argument(
        "--parent",
        metavar="REPO",
        help="find which tag of this repository (or catalog entry) the image was built on: base_reference",
    )


def _print_human(doc: dict[str, Any]) -> None:
    """Every value is the image's (or its registry's): escaped before it is printed, one per line."""
    from nbcatalog.cli.output import format_table, human_size, short_digest, style
    from nbcatalog.safetext import safe_text

    facts = [
        ("Reference", doc["reference"]),
        ("Digest", doc["digest"]),
        ("Media type", doc["media_type"]),
        ("Platforms", ", ".join(doc["platforms"])),
        ("Platform", doc["platform"]),
        ("Created", doc["created"] or ""),
        ("User", doc["user"] or "(root)"),
        ("Ports", ", ".join(doc["exposed_ports"])),
        ("Entrypoint", " ".join(doc["entrypoint"])),
        ("Cmd", " ".join(doc["cmd"])),
        ("Size", human_size(doc["size"])),
    ]
    cuda = doc.get("cuda")
    if cuda:
        driver = f" (driver >= {cuda['min_driver']})" if cuda.get("min_driver") else ""
        facts.append(("CUDA", f"{cuda['version']}{driver}"))
    else:
        facts.append(("CUDA", "no"))
    kubeflow = doc["kubeflow"]
    facts.append(("Kubeflow", "ready" if kubeflow["ready"] else "not ready"))
    if "base_reference" in doc:
        facts.append(("Built on", doc["base_reference"] or f"no tag of {doc['parent']}"))
    width = max(len(k) for k, _ in facts)
    for key, value in facts:
        print(f"{style(key.ljust(width), 'bold')}  {safe_text(value)}")
    if doc["env"]:
        print("\n" + style("Env", "bold"))
        for key, value in doc["env"].items():
            print(f"  {safe_text(key)}={safe_text(value)}")
    if doc["labels"]:
        print("\n" + style("Labels", "bold"))
        for key, value in doc["labels"].items():
            print(f"  {safe_text(key)}={safe_text(value)}")
    print("\n" + style(f"Layers ({len(doc['layers'])})", "bold"))
    rows = [
        [str(i + 1), short_digest(layer["digest"]), human_size(layer["size"]), layer["media_type"]]
        for i, layer in enumerate(doc["layers"])
    ]
    print(format_table(["#", "DIGEST", "SIZE", "MEDIA TYPE"], rows))
    if cuda:
        print("\n" + style("CUDA evidence", "bold"))
        for item in cuda["evidence"]:
            source, key, value = (safe_text(item[field]) for field in ("source", "key", "value"))
            print(f"  {source:<8} {key}={value}  ({safe_text(item['strength'])})")
    print("\n" + style("Kubeflow image requirements", "bold"))
    marks = {True: style("ok", "green"), False: style("FAIL", "red"), None: style("?", "yellow")}
    for requirement in kubeflow["requirements"]:
        optional = "" if requirement["required"] else " (recommended)"
        text = f"{requirement['description']}{optional}: {requirement['evidence']}"
        print(f"  {marks[requirement['met']]:<4} {safe_text(text)}")
    print("\n" + style("History", "bold"))
    for entry in doc["history"]:
        marker = " " if entry.get("empty_layer") else "+"
        # one line per entry: a newline in a RUN step is shown as \x0a, not as a line of its own
        print(f" {marker} {safe_text((entry.get('created') or '')[:19])}  {safe_text(entry['created_by'][:100])}")


def run(args: argparse.Namespace) -> int:
    from nbcatalog.cli.common import run_with_session
    from nbcatalog.cli.output import print_json
    from nbcatalog.cli.packages import resolve_argument
    from nbcatalog.imageinfo import inspect_image

    ref = resolve_argument(args.reference, args.catalog)
    parent = resolve_argument(args.parent, args.catalog).repo_only() if args.parent else None

    async def work(session: Session) -> dict[str, Any]:
        doc = await inspect_image(session, ref, deep=args.deep)
        if parent is not None:
            from nbcatalog.lineage import find_base

            base = await find_base(session, ref, parent)
            doc["parent"] = str(parent)
            doc["base_reference"] = base.reference if base else None
            doc["base_digest"] = base.chain.digest if base else None
        return doc

    doc = run_with_session(args, work)
    if args.json:
        print_json(doc)
    else:
        _print_human(doc)
    return 0
