"""The simulator's exec with ``real_exec``: real programs in the project's sandbox, as a
CoCalc project runs them in its container. What a program may do is what the autograding
of hand-ins rests on: write its own project's files, and nothing else of this machine, the
network or another project."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.dev.simulator import sandbox

pytestmark = pytest.mark.skipif(
    not sandbox.available(), reason="bubblewrap is not installed (make install installs it)"
)


@pytest.fixture
def project(gw, sim):
    sim.configure(real_exec=True)
    found = gw.cocalc.create_project(title="Sandbox", start=True).project_id
    gw.cocalc.write_text_file_to_project(found, "data/in.txt", "hello")
    return found


def test_a_real_program_reads_and_writes_its_own_files(gw, sim, project):
    script = "import pathlib; t = pathlib.Path('data/in.txt').read_text(); pathlib.Path('out.txt').write_text(t.upper())"  # noqa: E501
    done = gw.cocalc.project_exec(project, "python3", args=["-c", script])
    assert done.exit_code == 0, done.stderr
    assert sim.project(project)["files"]["out.txt"] == "HELLO"


def test_nothing_outside_the_project_is_reachable(gw, sim, project, tmp_path):
    """The checkout, this machine's /tmp, other projects and the network are out of sight;
    /usr is read-only."""
    sentinel = tmp_path / "written-by-the-project"
    checks = {
        "write /usr": "open('/usr/escape', 'w')",
        "write the test's folder": f"open({str(sentinel)!r}, 'w')",
        "read the checkout": f"open({str(Path(__file__))!r}).read()",
        "connect to the simulator": (
            "import socket; socket.create_connection(('127.0.0.1', "
            f"{sim.url.rsplit(':', 1)[1]}), 2)"
        ),
    }
    for what, code in checks.items():
        done = gw.cocalc.project_exec(project, "python3", args=["-c", code])
        assert done.exit_code != 0, what
    assert not sentinel.exists() and not Path("/usr/escape").exists()
    # Another project's files are nowhere in sight: the sandbox's root holds /usr, the
    # Python environment (and the folders on its way) and the project's own folder.
    other = gw.cocalc.create_project(title="Other", start=True).project_id
    gw.cocalc.write_text_file_to_project(other, "secret.txt", "other project's")
    done = gw.cocalc.project_exec(project, "sh", args=["-c", "ls -a / /tmp /home"])
    listed = set(done.stdout.split())
    assert {"usr", "tmp", "home", "user"} <= listed
    assert not listed & {"var", "srv", "mnt", "opt"}, listed
    etc = gw.cocalc.project_exec(project, "sh", args=["-c", "ls /etc"]).stdout.split()
    assert set(etc) <= {"hosts", "passwd", "group"}, etc
    checkout = Path(__file__).resolve().parents[2]
    done = gw.cocalc.project_exec(project, "sh", args=["-c", f"ls {checkout}"])
    assert set(done.stdout.split()) <= {".venv"}, done.stdout


def test_a_program_past_its_time_limit_is_killed(gw, project):
    started = time.monotonic()
    done = gw.cocalc.project_exec(project, "sleep", args=["30"], timeout=1)
    assert done.exit_code == 124 and time.monotonic() - started < 10


def test_a_read_only_file_stays_as_it_was(gw, sim, project):
    gw.cocalc.project_exec(project, "chmod", args=["-R", "a-w", "data"])
    for change in ("echo changed > data/in.txt", "rm data/in.txt", "touch data/new.txt"):
        done = gw.cocalc.project_exec(project, "sh", args=["-c", change])
        assert done.exit_code != 0, change
    files = sim.project(project)["files"]
    assert files["data/in.txt"] == "hello" and "data/new.txt" not in files


def test_without_real_exec_a_program_is_not_found(gw, sim):
    found = gw.cocalc.create_project(title="Plain", start=True).project_id
    done = gw.cocalc.project_exec(found, "python3", args=["-c", "print(1)"])
    assert done.exit_code == 127 and "command not found" in done.stderr
