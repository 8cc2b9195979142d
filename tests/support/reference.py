"""The real upstream configuration files (Kubeflow, z2jh, 2i2c) used as test inputs.

Copied verbatim from the project's shared reference set into ``tests/fixtures/reference`` so the
tests run from any clone; ``SOURCES.md`` there names the repository, path and commit of each file.
"""

from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "reference"
