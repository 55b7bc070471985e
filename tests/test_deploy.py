"""The deploy examples work as written: systemd units verify, the crontab line and the Actions
workflow's chain step run for real on the tiny sample, and all follow the exit-code table."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ops.exit_codes import SCHEDULER_SUCCESS, ExitCode

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SERVICE = DEPLOY / "systemd" / "stormwater-nightly.service"
TIMER = DEPLOY / "systemd" / "stormwater-nightly.timer"
CRON = DEPLOY / "cron" / "stormwater-watch.cron"
WORKFLOW = DEPLOY / "github-actions" / "nightly.yml"
INSTALL_DIR = "/opt/stormwater-watch"
OK_CODES = {int(ExitCode.UPDATED), *map(int, SCHEDULER_SUCCESS)}


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def _accepted_codes(script: str) -> set[int]:
    """Exit codes a shell snippet treats as success: `[ $code -eq N ]` / `[ "$code" -eq N ]`."""
    return {int(n) for n in re.findall(r'\[ "?\$\w+"? -eq (\d+) \]', script)}


def _env(store: Path, source: Path, **extra: str) -> dict[str, str]:
    """A run against the tiny sample: the 'portal' is a local directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STORMWATER_", "ENABLE_"))}
    return env | {
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        "STORMWATER_STORE": str(store),
        "STORMWATER_CKAN_URL": str(source),
        "STORMWATER_ESMR_YEARS": "2023-2024",
        "STORMWATER_MEMORY_LIMIT": "1GB",
        **extra,
    }


def test_service_runs_nightly_and_counts_nothing_changed_as_success() -> None:
    service = _unit(SERVICE)["Service"]
    assert service["Type"] == "oneshot"
    assert service["ExecStart"] == f"{INSTALL_DIR}/.venv/bin/python cli.py nightly"
    assert service["WorkingDirectory"] == INSTALL_DIR and service["User"]
    assert service["SuccessExitStatus"].split() == [str(int(c)) for c in SCHEDULER_SUCCESS]
    store = re.search(r"STORMWATER_STORE=(\S+)", service["Environment"]).group(1)
    assert store.startswith(service["ReadWritePaths"])  # the store is writable under ProtectSystem


def test_timer_fires_nightly_and_catches_up() -> None:
    timer = _unit(TIMER)
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (the units were parsed above)")
    for unit in (SERVICE, TIMER):  # the real checkout and interpreter instead of /opt/...
        text = unit.read_text(encoding="utf-8").replace(
            f"{INSTALL_DIR}/.venv/bin/python", sys.executable
        )
        (tmp_path / unit.name).write_text(text.replace(INSTALL_DIR, str(ROOT)))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", tmp_path / SERVICE.name, tmp_path / TIMER.name],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    on_calendar = _unit(TIMER)["Timer"]["OnCalendar"]
    assert (
        subprocess.run(["systemd-analyze", "calendar", on_calendar], capture_output=True).returncode
        == 0
    )


def _cron_line() -> str:
    text = CRON.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert lines[0].startswith("MAILTO=")
    (schedule,) = lines[1:]
    return schedule


def test_cron_line_is_a_valid_schedule() -> None:
    fields = _cron_line().split(None, 5)
    ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    for text, (lo, hi) in zip(fields[:5], ranges, strict=True):
        assert text == "*" or lo <= int(text) <= hi, text
    command = fields[5]
    assert "%" not in command  # cron turns % into a newline
    assert "cli.py nightly" in command and _accepted_codes(command) == OK_CODES


def test_cron_command_mails_only_failures(tiny_source: Path, tmp_path: Path) -> None:
    command = _cron_line().split(None, 5)[5]
    command = command.replace(f"cd {INSTALL_DIR}", f"cd {ROOT}")
    command = command.replace(".venv/bin/python", sys.executable)
    command = command.replace("/var/log/stormwater-watch", str(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()

    def run(source: Path) -> str:
        env = _env(tmp_path / "store", source)
        done = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True)
        assert done.returncode == 0 and done.stderr == ""
        return done.stdout

    assert run(tiny_source) == ""  # updated: nothing for cron to mail
    assert run(tiny_source) == ""  # nothing changed (exit 4): still nothing to mail
    mail = run(empty)
    assert mail.startswith("stormwater-watch nightly on ") and " exited 1;" in mail
    assert '"step": "refresh"' not in (tmp_path / "nightly.log").read_text()  # logs, not --json
    assert '"event": "dataset_refreshed"' in (tmp_path / "nightly.log").read_text()


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _steps() -> list[dict]:
    return _workflow()["jobs"]["nightly"]["steps"]


def test_workflow_runs_on_a_schedule_and_by_hand() -> None:
    doc = _workflow()
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    (schedule,) = triggers["schedule"]
    assert len(schedule["cron"].split()) == 5
    assert "workflow_dispatch" in triggers
    assert doc["permissions"] == {"contents": "read", "actions": "read"}


def test_workflow_keeps_the_store_between_runs() -> None:
    doc, steps = _workflow(), _steps()
    name = doc["env"]["STORE_ARTIFACT"]
    job_env = doc["jobs"]["nightly"]["env"]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    assert steps[1]["with"]["python-version"] == "3.11"
    fetch = next(s for s in steps if "gh run download" in s.get("run", ""))
    assert "$STORE_ARTIFACT" in fetch["run"] and "$STORMWATER_STORE" in fetch["run"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["name"] == "${{ env.STORE_ARTIFACT }}" and name == "parquet-store"
    assert job_env["STORMWATER_STORE"].endswith("/" + upload["with"]["path"].strip("/"))
    assert upload["if"].startswith("always()")


def test_workflow_settings_are_documented_variables() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in _workflow()["jobs"]["nightly"]["env"]:
        assert f"| `{name}` |" in readme, f"{name} is not in the README's configuration table"


def test_workflow_chain_step_runs_and_reports_its_code(tiny_source: Path, tmp_path: Path) -> None:
    step = next(s for s in _steps() if s.get("id") == "nightly")
    assert step["shell"] == "bash" and _accepted_codes(step["run"]) == OK_CODES
    output = tmp_path / "github_output"

    def run(source: Path) -> int:
        env = _env(tmp_path / "store", source, GITHUB_OUTPUT=str(output))
        bash = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]]
        return subprocess.run(bash, cwd=ROOT, env=env, capture_output=True, text=True).returncode

    (tmp_path / "empty").mkdir()
    assert [run(tiny_source), run(tiny_source), run(tmp_path / "empty")] == [0, 0, 1]
    assert output.read_text().split() == ["code=0", "code=4", "code=1"]


def test_make_refresh_accepts_nothing_changed() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (recipe,) = re.findall(r"^refresh: venv\n\t(.+)$", makefile, flags=re.M)
    assert _accepted_codes(recipe.replace("$$?", "$code")) == {int(ExitCode.NOTHING_CHANGED)}
