"""Progress of long runs: `crisk score`, `fit`, `evaluate`, `monitor` and `report` show
rows done and rows per second on stderr when it is a terminal (a tmux pane here), and
nothing with --quiet or when stderr is a pipe; the KCS recipe lets it through."""
import re
import shlex
import shutil
import subprocess
import time
import uuid

import pytest

from test_monitor_cli import BUNDLE, ROOT, events_options, sample  # noqa: F401

PROGRESS = re.compile(r"\d+ rows, \d+ rows/s")


def commands(sample, tmp):  # noqa: F811
    decl, ev = sample[0], events_options(sample)
    return {
        "score": ["score", "--bundle", BUNDLE, "--input", decl, *ev, "--output",
                  tmp / "s.csv"],
        "fit": ["fit", "--schema", ROOT / "models" / "schema.json", "--input", decl,
                "--label", "fraud", "--output", tmp / "fitted.json", *ev],
        "evaluate": ["evaluate", "--bundle", BUNDLE, "--input", decl, "--label", "fraud",
                     *ev],
        "monitor": ["monitor", "--bundle", BUNDLE, "--input", decl, *ev],
        "report": ["report", "--bundle", BUNDLE, "--input", decl, "--label", "fraud", *ev,
                   "--output", tmp / "r.html"],
    }


def in_terminal(program, args, tmp_path):
    """Runs PROGRAM ARGS in a tmux pane (stderr the terminal, stdout to a file) and returns
    what the pane shows once it has finished."""
    assert shutil.which("tmux"), "tmux is not installed (scripts/setup-debian.sh does)"
    session = f"crisk-{uuid.uuid4().hex[:8]}"
    line = " ".join(shlex.quote(str(a)) for a in [program, *args])
    script = f"{line} > {shlex.quote(str(tmp_path / 'stdout'))}; echo EXIT=$?; sleep 600"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "220", "-y", "50",
                    script], check=True)
    try:
        for _ in range(4800):  # waits for the command to end, however long it takes
            pane = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                  capture_output=True, text=True, check=True).stdout
            if "EXIT=" in pane:
                return pane
            time.sleep(0.25)
        pytest.fail(f"{program} {args[0]} did not finish in the pane: {pane}")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


@pytest.mark.parametrize("command", ["score", "fit", "evaluate", "monitor", "report"])
def test_progress_shows_on_a_terminal(crisk_cli, tmp_path, sample, command):  # noqa: F811
    pane = in_terminal(crisk_cli, commands(sample, tmp_path)[command], tmp_path)
    assert re.search(r"EXIT=[03]\b", pane), pane
    assert PROGRESS.search(pane), pane


@pytest.mark.parametrize("command", ["score", "monitor"])
def test_quiet_shows_none(crisk_cli, tmp_path, sample, command):  # noqa: F811
    pane = in_terminal(crisk_cli, commands(sample, tmp_path)[command] + ["--quiet"],
                       tmp_path)
    assert re.search(r"EXIT=[03]\b", pane), pane
    assert not PROGRESS.search(pane), pane


@pytest.mark.parametrize("command", ["score", "fit", "evaluate", "monitor", "report"])
def test_a_pipe_gets_no_progress(run_crisk, tmp_path, sample, command):  # noqa: F811
    proc = run_crisk(*commands(sample, tmp_path)[command], check=False)
    assert proc.returncode in (0, 3), proc.stderr
    assert not PROGRESS.search(proc.stderr) and "\r" not in proc.stderr, proc.stderr


def kcs_slice(tmp_path):
    """The first rows of each KCS split (test_report_browser's slice) in tmp_path/kcs."""
    from test_report_browser import KCS_DATA, KCS_ROWS
    if not all((KCS_DATA / name).is_file() for name in KCS_ROWS):
        pytest.skip(f"{KCS_DATA}: the KCS dataset is not here (set CRISK_KCS_DIR)")
    data = tmp_path / "kcs"
    data.mkdir()
    for name, rows in KCS_ROWS.items():
        with open(KCS_DATA / name, newline="") as src:
            (data / name).write_text("".join(line for _, line in zip(range(rows + 1), src)))
    return data


def test_kcs_recipe_passes_progress_on(crisk_cli, tmp_path):
    """models/kcs/run (on the first rows of each split), the recipe as the README runs it,
    shows in a terminal the progress of the crisk commands it runs."""
    pane = in_terminal(ROOT / "models" / "kcs" / "run",
                       [kcs_slice(tmp_path), "--crisk", crisk_cli], tmp_path)
    assert "EXIT=0" in pane, pane
    assert PROGRESS.search(pane), pane


def test_kcs_loop_passes_progress_on(crisk_cli, tmp_path):
    """models/kcs/loop --smoke, in a terminal, shows the progress of its crisk commands
    (it used to capture their stderr)."""
    from test_report_browser import KCS_DATA, KCS_ROWS
    if not all((KCS_DATA / name).is_file() for name in KCS_ROWS):
        pytest.skip(f"{KCS_DATA}: the KCS dataset is not here (set CRISK_KCS_DIR)")
    pane = in_terminal(ROOT / "models" / "kcs" / "loop",
                       [KCS_DATA, "--crisk", crisk_cli, "--smoke"], tmp_path)
    assert "EXIT=0" in pane, pane
    assert PROGRESS.search(pane), pane


def test_readme_lists_quiet_for_every_command_with_progress(run_crisk):
    """README's command-line synopsis gives --quiet to each command that shows progress,
    as their --help does."""
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("## Command line"):]
    block = block[block.index("```"):block.index("```", block.index("```") + 3)]
    entries = re.split(r"\n(?=crisk )", block)
    for command in ("score", "fit", "evaluate", "monitor", "report"):
        assert "--quiet" in run_crisk(command, "--help").stdout
        entry = next(e for e in entries if e.startswith(f"crisk {command} "))
        assert "--quiet" in entry, f"README: crisk {command} has no [--quiet]: {entry}"
