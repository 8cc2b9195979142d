"""``nbcatalog export``: write the spawner configs under profiles/ from catalog.yaml (or check them).

Thin: parse options, load the catalog, plan the files (nbcatalog.exporters.files), then write them
atomically or, with ``--check``, only compare (exit 1 when anything under profiles/ is stale).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from nbcatalog.errors import EXIT_FAILED, EXIT_OK, BadInputError

if TYPE_CHECKING:
    from nbcatalog.catalog import Catalog, CatalogDocument, CatalogImage
    from nbcatalog.session import Session


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nbcatalog.exporters.files import DEFAULT_PATHS, FORMATS

    defaults = ", ".join(f"{fmt}: {path}" for fmt, path in DEFAULT_PATHS.items())
    parser.add_argument(
        "--format", "-f", choices=FORMATS, action="append", dest="formats",
        help=(
            "target format (repeatable; default: the four spawner configs, and prepuller once its file "
            f"exists). Default paths, beside the catalog: {defaults}"
        ),
    )  # fmt: skip
    parser.add_argument("--all", action="store_true", help="every format, prepuller included")
    parser.add_argument("-o", "--output", metavar="PATH", help="write here instead of the default path")
    parser.add_argument("--base", metavar="PATH", help="merge into this existing config (kubeflow, jupyterhub)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is out of date")
    parser.add_argument("--force", action="store_true", help="overwrite a generated file edited by hand")
    parser.add_argument(
        "--profile-options", action="store_true",
        help="jupyterhub/kubespawner: one CPU and one GPU profile with an image choice",
    )  # fmt: skip
    parser.add_argument(
        "--configmap", action="store_true",
        help="kubeflow: also write the ConfigMap and a kustomize configMapGenerator overlay",
    )  # fmt: skip
    parser.add_argument(
        "--cuda-images", metavar="NAMES",
        help="comma-separated catalog names known to be CUDA images (gpu: auto); default: guess from names",
    )  # fmt: skip
    parser.add_argument(
        "--detect-cuda", action="store_true",
        help="inspect each gpu: auto image's config in its registry (env/labels/tag) to decide CUDA",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the files and warnings as JSON")


def detect_cuda_images(args: argparse.Namespace, catalog: Catalog, formats: list[str]) -> tuple[set[str], list[str]]:
    """Names of ``gpu: auto`` images whose config shows CUDA; an image that cannot be read is
    guessed from its name, and the returned warnings say so."""
    import asyncio

    from nbcatalog.catalog.model import EXPORT_FORMATS
    from nbcatalog.cli.common import run_with_session
    from nbcatalog.cuda import image_cuda
    from nbcatalog.errors import NbcatalogError
    from nbcatalog.exporters.gpu import looks_like_cuda

    # The pre-puller pulls what any spawner format offers, so it needs their images decided.
    offered_in = set(formats) | (set(EXPORT_FORMATS) if "prepuller" in formats else set())
    auto = [i for i in catalog.images if i.gpu == "auto" and any(i.offered_in(f) for f in offered_in)]
    detected: set[str] = set()
    warnings: list[str] = []

    async def work(session: Session) -> None:
        async def one(image: CatalogImage) -> None:
            try:
                info = await image_cuda(session, image.ref)  # the backend bounds concurrency
            except NbcatalogError as exc:
                guess = looks_like_cuda(image)
                warnings.append(f"cannot inspect {image.name} ({exc}); guessed {'CUDA' if guess else 'no CUDA'}")
                if guess:
                    detected.add(image.name)
                return
            if info is not None:
                detected.add(image.name)

        await asyncio.gather(*(one(image) for image in auto))

    if auto:
        run_with_session(args, work)
    return detected, warnings


def pin_digests(args: argparse.Namespace, unpinned: list[CatalogImage]) -> CatalogDocument:
    """catalog.yaml with the digests of ``unpinned`` recorded (not saved yet): all are resolved
    first, so one unreachable registry fails the export before anything is written."""
    from nbcatalog.cli.common import run_with_session
    from nbcatalog.exporters.pinning import record_pins, resolve_pins

    pins = run_with_session(args, lambda session: resolve_pins(session, unpinned))
    return record_pins(args.catalog, pins)


def pin_report(catalog: Catalog, unpinned: list[CatalogImage], *, pinned: bool) -> list[dict[str, str | None]]:
    """The ``pins`` of the JSON output: each entry pinned now, or (``--check``) still to pin."""
    if not pinned:
        return [{"name": i.name, "reference": i.reference, "digest": None, "status": "unpinned"} for i in unpinned]
    images = [catalog.get(image.name) for image in unpinned]
    return [{"name": i.name, "reference": i.reference, "digest": i.digest, "status": "pinned"} for i in images]


def run(args: argparse.Namespace) -> int:
    from nbcatalog.catalog import load_catalog
    from nbcatalog.exporters.files import DEFAULT_FORMATS, FORMATS, ExportOptions, default_formats, plan_export
    from nbcatalog.yamlio import atomic_write_text

    formats: list[str] = list(dict.fromkeys(args.formats or DEFAULT_FORMATS))
    if args.all:
        formats = list(FORMATS)
    if args.output and len(formats) != 1:
        raise BadInputError("-o/--output needs exactly one --format")
    if args.base and len(formats) != 1:
        raise BadInputError("--base needs exactly one --format (a base file is of one kind)")
    if args.configmap and "kubeflow" not in formats:
        raise BadInputError("--configmap goes with --format kubeflow")
    if args.profile_options and not {"jupyterhub", "kubespawner"} & set(formats):
        raise BadInputError("--profile-options goes with --format jupyterhub or kubespawner")
    catalog = load_catalog(args.catalog)
    if not args.formats and not args.all:
        formats = default_formats(catalog)  # the pre-puller joins once it has been written
    from nbcatalog.exporters.pinning import missing_pins

    unpinned = missing_pins(catalog, formats)
    document = None
    if unpinned and not args.check:
        document = pin_digests(args, unpinned)
        catalog = document.catalog
    detected: set[str] | None = None
    warnings: list[str] = []
    if args.detect_cuda:
        detected, warnings = detect_cuda_images(args, catalog, formats)
    if args.cuda_images is not None:
        named = {name.strip() for name in args.cuda_images.split(",") if name.strip()}
        unknown = sorted(name for name in named if catalog.find(name) is None)
        if unknown:
            raise BadInputError(f"--cuda-images names no catalog entry: {', '.join(unknown)}")
        detected = (detected or set()) | named
    options = ExportOptions(
        output=Path(args.output) if args.output else None,
        base=Path(args.base) if args.base else None,
        profile_options=args.profile_options,
        configmap=args.configmap,
        force=args.force,
        detected_cuda=detected,
    )
    # Every format is planned before anything is written: a refused format (a file edited by hand)
    # leaves all of profiles/ as it was, never half of it updated.
    plans = [plan_export(catalog, export_format, options) for export_format in formats]
    from nbcatalog.exporters.preflight import refuse_unsafe

    # and checked as the next audit would: no invalid reference, no image offered twice in one choice
    refuse_unsafe([f for plan in plans for f in plan.files], [image.reference for image in catalog.images])
    report: list[dict[str, str]] = []
    stale = bool(unpinned) and args.check
    if document is not None:
        document.save()  # before profiles/: a file never names a digest the catalog does not record
    for export_format, plan in zip(formats, plans, strict=True):
        warnings.extend(w for w in plan.warnings if w not in warnings)
        for planned in plan.files:
            fresh = planned.up_to_date()
            if args.check:  # an entry still to pin changes every file that names it by tag alone
                fresh = fresh and not any(image.reference in planned.text for image in unpinned)
                status = "up-to-date" if fresh else "out-of-date"
                stale = stale or not fresh
            else:
                status = "unchanged" if fresh else "written"
                if not fresh:
                    atomic_write_text(planned.path, planned.text)
            report.append({"format": export_format, "path": str(planned.path), "status": status})
    from nbcatalog.safetext import safe_text

    for warning in warnings:
        print(f"nbcatalog: warning: {safe_text(warning)}", file=sys.stderr)
    pins = pin_report(catalog, unpinned, pinned=document is not None)
    if args.json:
        from nbcatalog.cli.output import print_json

        print_json({"catalog": str(args.catalog), "files": report, "pins": pins, "warnings": warnings})
    else:
        for pin in pins:
            print(safe_text(f"{pin['status']:<12} {pin['name']:<14} {pin['reference']}"))
        for entry in report:
            print(f"{entry['status']:<12} {entry['format']:<14} {safe_text(entry['path'])}")
    if unpinned and args.check:
        names = ", ".join(image.name for image in unpinned)
        print(
            safe_text(f"nbcatalog: {args.catalog}: pin: digest but no digest: yet for {names}: run `nbcatalog export`"),
            file=sys.stderr,
        )
    if stale:
        print("nbcatalog: profiles are out of date: run `nbcatalog export`", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
