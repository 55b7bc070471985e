"""Exit codes of `refresh`: one table, followed by the code, the help, the README and the run."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from data_layer.errors import RefreshLocked, SourceUnavailable
from ops.exit_codes import (
    MEANINGS,
    SCHEDULER_SUCCESS,
    ExitCode,
    chain_code,
    code_for_error,
    outcome_code,
)
from tests.factories import rows_for, write_csv

README = Path(__file__).resolve().parents[1] / "README.md"
U, N, P, F, L = (
    ExitCode.UPDATED,
    ExitCode.NOTHING_CHANGED,
    ExitCode.PARTLY_FAILED,
    ExitCode.FAILED,
    ExitCode.LOCKED,
)


@pytest.mark.parametrize(
    ("changed", "unchanged", "failed", "code"),
    [(2, 6, 0, U), (0, 8, 0, N), (1, 0, 0, U), (1, 6, 1, P), (0, 7, 1, P), (0, 0, 8, F)],
)
def test_outcome_code(changed: int, unchanged: int, failed: int, code: ExitCode) -> None:
    assert outcome_code(changed, unchanged, failed) == code


@pytest.mark.parametrize(
    ("codes", "code"),
    [((N, N), N), ((N, U), U), ((U, F), F), ((P,), P), ((L,), L), ((U, P, F), P), ((), N)],
)
def test_chain_code_is_the_first_failure_else_updated(codes, code: ExitCode) -> None:
    assert chain_code(codes) == code


def test_named_errors_have_their_code() -> None:
    assert code_for_error(RefreshLocked("busy")) == L
    assert code_for_error(SourceUnavailable("down")) == F


def test_codes_suit_schedulers() -> None:
    assert U == 0 and F == 1 and ExitCode.USAGE == 2  # click's own usage errors exit 2
    assert all(0 < c < 126 for c in ExitCode if c)  # shells reserve 126+ (and 128+N signals)
    assert set(MEANINGS) == set(ExitCode)
    assert SCHEDULER_SUCCESS == (N,)


@pytest.mark.parametrize("command", ["refresh", "nightly"])
def test_help_lists_every_exit_code(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    for code in ExitCode:
        assert f"{int(code):>3}  {MEANINGS[code]}" in result.output


def test_readme_lists_every_exit_code() -> None:
    text = README.read_text(encoding="utf-8")
    for code in ExitCode:
        assert f"| `{int(code)}` |" in text, f"README has no row for exit code {int(code)}"


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STORMWATER_STORE", str(tmp_path / "store"))
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, ["refresh", *args])


def test_refresh_exit_codes_updated_then_nothing_changed(invoke, tmp_path: Path) -> None:
    write_csv(tmp_path / "src" / "violations.csv", "violations", rows_for("violations", 5))
    first = invoke("--source", str(tmp_path / "src"), "--dataset", "violations")
    assert first.exit_code == U, first.output
    second = invoke("--source", str(tmp_path / "src"), "--dataset", "violations")
    assert second.exit_code == N, second.output
    assert "violations: unchanged" in second.stdout and second.stderr == ""


def test_refresh_partly_failed_names_the_failed_datasets(invoke, tmp_path: Path) -> None:
    write_csv(tmp_path / "src" / "violations.csv", "violations", rows_for("violations", 5))
    result = invoke(
        "--source", str(tmp_path / "src"), "--dataset", "violations", "--dataset", "inspections"
    )
    assert result.exit_code == P, result.output
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "1 of 2 datasets failed: inspections (no source file" in error


def test_refresh_failed_when_nothing_loads(invoke, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = invoke("--source", str(tmp_path / "empty"), "--dataset", "violations")
    assert result.exit_code == F, result.output
    assert result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1
