"""A large, checkable audit workload: many repositories on the local registry and profile files that
reference them by stale, current and missing tags (shared by the load test and bench/load_bench.py)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbcatalog import ocibuild as b
from tests.support.registry import Pusher

ROOT = Path(__file__).resolve().parents[2]
TAGS = ("v1.0.0", "v1.1.0", "v2.0.0")
#: What a reference's tag is expected to yield: the audit's finding kind (None: up to date).
EXPECTED = {"v1.0.0": "stale-tag", "v1.1.0": "stale-tag", "v2.0.0": None, "v9.9.9": "missing-tag"}


def push_repositories(pusher: Pusher, host: str, prefix: str, count: int) -> list[str]:
    """``count`` repositories ``prefix/repo-N``, each with TAGS over one small image."""
    image = b.build_image([b.build_layer([b.file("etc/os-release", "ID=debian\n")])], labels={"load": "1"})
    repositories = [f"{prefix}/repo-{n:04d}" for n in range(count)]
    for repository in repositories:
        pusher.push(repository, image, [TAGS[0]])
        pusher.tag_many(repository, image, TAGS[1:], workers=2)
    return [f"{host}/{repository}" for repository in repositories]


@dataclass(frozen=True)
class Workload:
    paths: list[Path]
    references: list[str]

    def expected(self) -> dict[str, int]:
        """Finding kind -> how many references must get one."""
        counts: dict[str, int] = {}
        for reference in self.references:
            kind = EXPECTED[reference.rsplit(":", 1)[1]]
            if kind:
                counts[kind] = counts.get(kind, 0) + 1
        return counts


def write_profiles(directory: Path, repositories: list[str], references: int, per_file: int = 100) -> Workload:
    """Kubeflow spawner configs holding ``references`` image references (tags cycling through EXPECTED)."""
    directory.mkdir(parents=True, exist_ok=True)
    tags = list(EXPECTED)
    refs = [
        f"{repositories[i % len(repositories)]}:{tags[(i // len(repositories)) % len(tags)]}" for i in range(references)
    ]
    paths, listed = [], []
    for start in range(0, references, per_file):
        chunk = refs[start : start + per_file]
        lines = ["spawnerFormDefaults:", "  image:", f"    value: {chunk[0]}", "    options:"]
        lines += [f"    - {ref}" for ref in chunk]
        path = directory / f"spawner_ui_config-{start // per_file:03d}.yaml"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
        listed += [chunk[0], *chunk]  # the default (value) is a reference too
    return Workload(paths, listed)


_CHILD = """
import contextlib, io, json, sys, time
from nbcatalog.cli.main import main
out = io.StringIO()
started = time.monotonic()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
seconds = time.monotonic() - started
# VmHWM: this process's own peak (ru_maxrss would include the parent's memory at fork time)
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
print(json.dumps({"code": code, "doc": json.loads(out.getvalue()), "seconds": seconds, "peak_rss_mib": peak}))
"""


def run_audit(paths: list[Path], *extra: str) -> dict[str, Any]:
    """``nbcatalog audit --json`` in a fresh interpreter: exit code, document, seconds, peak RSS (MiB)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["audit", *map(str, paths), "--json", "--fail-on", "none", *extra]
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    result["stderr"] = done.stderr
    result["wall_seconds"] = time.monotonic() - started
    return result


class ConnectionGauge:
    """A loopback TCP relay in front of the registry that counts connections: the most open at once
    shows whether the client's concurrency is bounded (an unbounded client exhausts registries)."""

    def __init__(self, upstream: str) -> None:
        import socket
        import threading

        host, port = upstream.rsplit(":", 1)
        self._upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.open = self.peak = self.total = 0
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream)
            with self._lock:
                self.open += 1
                self.total += 1
                self.peak = max(self.peak, self.open)
            done = threading.Event()
            for source, target in ((client, server), (server, client)):
                thread = threading.Thread(target=self._pump, args=(source, target, done), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _pump(self, source: Any, target: Any, done: Any) -> None:
        import socket

        try:
            while data := source.recv(1 << 16):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            if not done.is_set():
                done.set()
                with self._lock:
                    self.open -= 1
            source.close()

    def close(self) -> None:
        import socket

        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        self._accepting.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
