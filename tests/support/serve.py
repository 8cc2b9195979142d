"""Run the test registry by hand: ``python -m tests.support.serve [--many-tags N] [--proxy]``.

Starts the same loopback registry the tests use, pushes the standard images (and a many-tag repository
if asked), prints the references and waits for Ctrl-C; then stops everything it started.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import threading
from pathlib import Path

from tests.support.images import push_many_tags, push_standard_images
from tests.support.proxy import run_proxy
from tests.support.registry import Pusher, run_registry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.serve", description=__doc__)
    parser.add_argument("--many-tags", type=int, default=0, metavar="N", help="also push test/manytags with N tags")
    parser.add_argument("--proxy", action="store_true", help="also start the paginating proxy (pages of 100)")
    args = parser.parse_args(argv)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with tempfile.TemporaryDirectory(prefix="nbcatalog-registry-") as root, run_registry(Path(root)) as server:
        with Pusher(server.url) as pusher:
            images = push_standard_images(pusher, server.host)
            many = push_many_tags(pusher, server.host, args.many_tags) if args.many_tags else None
        print(f"registry  {server.url}")
        for name in ("base", "layered", "layered_v2", "zstd", "docker", "multiarch", "docker_list"):
            print(f"  {name:<11} {getattr(images, name).ref}")
        if many:
            print(f"  many tags   {many.repo_ref} ({len(many.tags)} tags)")
        if args.proxy:
            with run_proxy(server.host) as proxy:
                print(f"proxy     {proxy.url} (Docker-style Link pages of 100)", flush=True)
                done.wait()
        else:
            print("Ctrl-C stops it.", flush=True)
            done.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
