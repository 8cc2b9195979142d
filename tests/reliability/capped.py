"""Run the CLI as a user would, in a child process whose memory and time are capped.

A hostile input that once made nbcatalog swallow 1.5 GiB must fail the test, not swap the CI
machine: the child gets ``RLIMIT_AS`` (address space, so a runaway allocation is a MemoryError at
the cap) and a wall-clock timeout (a hang is a failure with what was printed so far). :func:`run`
returns what the shell would see; :meth:`Capped.assert_clean_failure` is the issue-14 contract:
one line on stderr, the expected exit code, no traceback, no "internal error", no MemoryError.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: Address space for one CLI run. An ordinary ``nbcatalog`` command maps ~300-450 MiB (the
#: interpreter, httpx, PyYAML, SQLite, the zstd and ssl libraries, a few thread stacks); the hostile
#: cases reached 1.2-1.5 GiB before they died.
DEFAULT_AS_BYTES = 768 * 1024 * 1024
DEFAULT_TIMEOUT_S = 45.0


@dataclass
class Capped:
    code: int
    out: str
    err: str
    seconds: float
    argv: list[str]

    def assert_clean_failure(self, code: int | set[int] = frozenset({1, 2})) -> None:
        """Failed as the contract says: a one-line error, exit ``code``, nothing half-done."""
        codes = {code} if isinstance(code, int) else set(code)
        shown = f"argv={self.argv}\nexit {self.code} after {self.seconds:.1f}s\nstderr:\n{self.err[-3000:]}"
        for bad in ("Traceback", "internal error", "MemoryError", "RecursionError"):
            assert bad not in self.err and bad not in self.out, f"{bad} in output\n{shown}"
        assert self.code in codes, f"expected exit {sorted(codes)}\n{shown}"
        errors = [line for line in self.err.splitlines() if line.startswith("nbcatalog: error:")]
        assert len(errors) == 1, f"expected one error line\n{shown}"

    @property
    def error(self) -> str:
        return next((line for line in self.err.splitlines() if line.startswith("nbcatalog: error:")), "")


def _limit_child(as_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (as_bytes, as_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    as_bytes: int = DEFAULT_AS_BYTES,
    timeout: float = DEFAULT_TIMEOUT_S,
    stdin: bytes | None = None,
) -> Capped:
    """``nbcatalog ARGS`` in a child with ``as_bytes`` of address space; a hang past ``timeout``
    kills it and fails the calling test with what it had printed."""
    argv = [sys.executable, "-m", "nbcatalog", *args]
    child_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    child_env.pop("NBCATALOG_DEBUG", None)
    started = time.monotonic()
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=child_env,
            input=stdin,
            capture_output=True,
            timeout=timeout,
            preexec_fn=lambda: _limit_child(as_bytes),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode("utf-8", "replace")
        err = (exc.stderr or b"").decode("utf-8", "replace")
        raise AssertionError(
            f"hung: {args} still running after {timeout}s\nstdout:{out[-2000:]}\nstderr:{err[-2000:]}"
        ) from None
    return Capped(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
        time.monotonic() - started,
        list(args),
    )
