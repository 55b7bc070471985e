"""The CLI explains itself: help with an example for every command, the README lists them all,
and mistakes end in one line that says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"
COMMANDS = sorted(cli.commands)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def empty_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    store = tmp_path / "store"
    monkeypatch.setenv("STORMWATER_STORE", str(store))
    return store


def test_there_are_commands():
    assert {"demo-source", "refresh", "status", "rollback", "bench"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_help_ends_with_an_example(runner: CliRunner, name: str):
    command = cli.commands[name]
    assert command.help, f"{name} has no help text"
    last = command.help.strip().splitlines()[-1].strip()
    assert last.startswith("Example: python cli.py "), f"{name} help ends with {last!r}"
    assert last.split()[3] == name, f"{name}'s example runs another command: {last!r}"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_help_exits_zero(runner: CliRunner, name: str):
    result = runner.invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example: python cli.py" in result.output


def test_group_help_lists_every_command(runner: CliRunner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    for name in COMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_is_in_the_readme(name: str):
    text = README.read_text(encoding="utf-8")
    assert f"`{name}" in text, f"README.md does not mention `{name}`"


def test_rollback_unknown_dataset_is_a_one_line_error(runner: CliRunner, empty_store: Path):
    result = runner.invoke(cli, ["rollback", "no_such_dataset"])
    assert result.exit_code != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert "no_such_dataset" in errors[0]
    assert result.stdout == ""


def test_rollback_on_empty_store_says_to_refresh(runner: CliRunner, empty_store: Path):
    result = runner.invoke(cli, ["rollback", "violations"])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error:")
    assert "violations" in lines[0]
    assert "refresh" in lines[0]
    assert result.stdout == ""
