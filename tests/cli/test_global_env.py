"""Every global option has an environment variable; the flag beats it; a bad value is one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbcatalog.cli.main import GLOBAL_OPTIONS, GlobalOption, main, parse
from nbcatalog.errors import BadInputError
from tests.cli.run import run_cli
from tests.conftest import StandardImages

#: A value each kind accepts from the environment, and another one for the flag.
SAMPLES = {
    "path": ("/srv/from-env", "/srv/from-flag"),
    "backend": ("skopeo", "httpx"),
    "platform": ("linux/arm64/v8", "linux/amd64"),
}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for option in GLOBAL_OPTIONS:
        monkeypatch.delenv(option.env, raising=False)


def test_every_variable_is_named_nbcatalog_and_unique() -> None:
    names = [option.env for option in GLOBAL_OPTIONS]
    assert len(set(names)) == len(names)
    assert all(name.startswith("NBCATALOG_") for name in names)
    assert "NBCATALOG_CACHE_DIR" in names


@pytest.mark.parametrize("option", [o for o in GLOBAL_OPTIONS if o.kind in SAMPLES], ids=lambda o: o.env)
@pytest.mark.parametrize("after_command", [False, True])
def test_variable_sets_the_option_and_the_flag_beats_it(
    option: GlobalOption, after_command: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env, from_flag = SAMPLES[option.kind]
    args, _ = parse(["tags", "x/y"])
    assert getattr(args, option.dest) == option.default
    monkeypatch.setenv(option.env, from_env)
    args, _ = parse(["tags", "x/y"])
    assert getattr(args, option.dest) == from_env
    argv = ["tags", "x/y", option.flag, from_flag] if after_command else [option.flag, from_flag, "tags", "x/y"]
    args, _ = parse(argv)
    assert getattr(args, option.dest) == from_flag


@pytest.mark.parametrize("option", [o for o in GLOBAL_OPTIONS if o.kind == "bool"], ids=lambda o: o.env)
@pytest.mark.parametrize(("text", "expected"), [("1", True), ("Yes", True), ("on", True), ("0", False), ("off", False)])
def test_boolean_variables(option: GlobalOption, text: str, expected: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(option.env, text)
    args, _ = parse(["tags", "x/y"])
    assert getattr(args, option.dest) is expected
    args, _ = parse(["tags", "x/y", option.flag])
    assert getattr(args, option.dest) is True


def test_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBCATALOG_BACKEND", "")
    monkeypatch.setenv("NBCATALOG_CATALOG", "  ")
    args, _ = parse(["tags", "x/y"])
    assert (args.backend, args.catalog) == ("httpx", "catalog.yaml")


def test_insecure_registries_from_flag_and_variable_are_joined(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBCATALOG_INSECURE_REGISTRIES", "a.example:5000, b.example ,")
    args, _ = parse(["--insecure-registry", "c.example", "tags", "x/y"])
    assert sorted(args.insecure_registries) == ["a.example:5000", "b.example", "c.example"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NBCATALOG_BACKEND", "docker"),
        ("NBCATALOG_NO_CACHE", "maybe"),
        ("NBCATALOG_DEBUG", "2"),
        ("NBCATALOG_PLATFORM", "linux"),
    ],
)
def test_bad_variable_is_one_line_naming_it(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(name, value)
    if name == "NBCATALOG_DEBUG":  # a bad NBCATALOG_DEBUG must not itself switch tracebacks on
        assert parse_error(["tags", "x/y"]).where == f"environment variable {name}"
    result = run_cli(capsys, "tags", "x/y")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and repr(value) in lines[0], result.err
    assert "Traceback" not in result.err


def parse_error(argv: list[str]) -> BadInputError:
    with pytest.raises(BadInputError) as caught:
        parse(argv)
    return caught.value


def test_a_bad_variable_does_not_break_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NBCATALOG_BACKEND", "docker")
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "NBCATALOG_CACHE_DIR" in capsys.readouterr().out


def test_a_flag_beats_a_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBCATALOG_PLATFORM", "linux")
    args, _ = parse(["tags", "x/y", "--platform", "linux/arm64"])
    assert args.platform == "linux/arm64"


def test_bad_platform_flag_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "--platform", "linux", "tags", "x/y")
    assert result.code == 2 and result.err.startswith("nbcatalog: error: --platform:"), result.err


def test_cache_dir_variable_is_where_the_cache_goes(
    test_images: StandardImages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from_env, from_flag = tmp_path / "env-cache", tmp_path / "flag-cache"
    monkeypatch.setenv("NBCATALOG_CACHE_DIR", str(from_env))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert run_cli(capsys, "packages", test_images.layered_ref, "--json").code == 0
    assert from_env.is_dir() and any(from_env.iterdir())
    assert run_cli(capsys, "packages", test_images.layered_ref, "--json", "--cache-dir", str(from_flag)).code == 0
    assert from_flag.is_dir() and any(from_flag.iterdir())
    monkeypatch.setenv("NBCATALOG_NO_CACHE", "1")
    monkeypatch.setenv("NBCATALOG_CACHE_DIR", str(tmp_path / "unused"))
    assert run_cli(capsys, "packages", test_images.layered_ref, "--json").code == 0
    assert not (tmp_path / "unused").exists()
    assert not (tmp_path / "xdg").exists()


def test_debug_variable_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBCATALOG_DEBUG", "1")
    with pytest.raises(BadInputError):
        main(["--catalog", "/nonexistent/catalog.yaml", "export", "--format", "kubeflow"])
