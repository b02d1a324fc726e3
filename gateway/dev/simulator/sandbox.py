"""Real commands in a simulated project, as CoCalc's exec runs them in the project's own
container: the project's files are written to a folder of its own, the command runs there
under bubblewrap (``bwrap``) with nothing else of this machine writable, no network, no
view of other projects, the checkout or ``/tmp``, and a time limit; the files it leaves
are read back into the project.

Only with ``SimulatorConfig.real_exec`` (the autograding tests turn it on), and only where
Debian's ``bubblewrap`` is installed (``make install`` installs it): without a sandbox the
simulator does not run real programs at all, and says so as CoCalc says a missing command.

What differs from a real CoCalc project: the file system outside the project is this
machine's (read-only, ``/usr`` and the Python environment the simulator runs in), the
project folder is written before each command and read after it (no process outlives a
command; an empty folder is not kept), and files are kept in memory between commands
(text as ``str``, anything else as ``bytes``)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

BWRAP = shutil.which("bwrap")
HOME = "/home/user"
#: CoCalc's exec: 10 s unless the call asks for more (at most this here).
MAX_TIMEOUT_S = 300
#: What a command may write at most, all files together (a runaway loop's output).
MAX_PROJECT_BYTES = 64 * 1024 * 1024

ETC_FILES = ("/etc/hosts", "/etc/passwd", "/etc/group")
_ROOT = Path(tempfile.mkdtemp(prefix="cocalc-sim-projects-"))


def available() -> bool:
    return BWRAP is not None


def _folder(project_id: str) -> Path:
    return _ROOT / project_id.replace("/", "_")


def _write(folder: Path, files: dict) -> None:
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for path, content in files.items():
        target = (folder / path).resolve()
        if folder.resolve() not in target.parents:
            continue  # a name that climbs out is never written
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else str(content).encode()
        target.write_bytes(data)


def _read(folder: Path) -> dict:
    found, total = {}, 0
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue  # a link could point anywhere: only plain files come back
        data = path.read_bytes()
        total += len(data)
        if total > MAX_PROJECT_BYTES:
            break
        try:
            content: str | bytes = data.decode()
        except UnicodeDecodeError:
            content = data
        found[str(path.relative_to(folder))] = content
    return found


def _command(folder: Path, words: list[str], cwd: str) -> list[str]:
    # The empty /tmp first: what is bound below (a Python environment under /tmp, as in a
    # CI checkout) goes on top of it, not under it.
    binds = ["--tmpfs", "/tmp", "--ro-bind", "/usr", "/usr"]  # noqa: S108 (the sandbox's own)
    for link in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(link):
            binds += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            binds += ["--ro-bind", link, link]
    # Names a program resolves without a network (``localhost``: a Jupyter kernel binds
    # it) and the users it may look up: three files of /etc, nothing else of it.
    for name in ETC_FILES:
        if os.path.isfile(name):
            binds += ["--ro-bind", name, name]
    # The Python environment the simulator runs in (graders installed with the tests).
    prefix = sys.prefix
    binds += ["--ro-bind", prefix, prefix]
    base = os.path.realpath(sys.base_prefix)
    if not base.startswith("/usr"):
        binds += ["--ro-bind", base, base]
    return [
        BWRAP,
        *binds,
        "--proc", "/proc",
        "--dev", "/dev",
        "--bind", str(folder), HOME,
        "--chdir", f"{HOME}/{cwd}".rstrip("/"),
        "--unshare-all",
        # Root in the sandbox without capabilities: file permissions hold (a hand-in made
        # read-only stays so), and nothing can be mounted or traced.
        "--cap-drop", "ALL",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--setenv", "HOME", HOME,
        "--setenv", "PATH", f"{prefix}/bin:/usr/local/bin:/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        # Jupyter's and IPython's own state stays in the home (~/.ipython, ~/.jupyter,
        # ~/.local/share/jupyter), as in a CoCalc project: what one command leaves there,
        # the next command reads.
        "--",
        *words,
    ]  # fmt: skip


def run(
    project_id: str, files: dict, read_only: set, words: list[str], timeout, cwd: str = ""
) -> tuple[dict, str, str, int]:
    """Run ``words`` in the project (in ``cwd``, relative to its home): (its files after,
    stdout, stderr, exit code). A command past its time limit is killed and exits 124, as
    ``timeout`` does."""
    folder = _folder(project_id)
    _write(folder, files)
    for path in read_only:  # as ``chmod -R a-w`` left them: the files and their folders
        if (folder / path).is_file():
            (folder / path).chmod(0o444)
            (folder / path).parent.chmod(0o555)
    seconds = min(float(timeout or 10), MAX_TIMEOUT_S)
    process = subprocess.Popen(
        _command(folder, words, cwd.strip("/")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=seconds)
        code = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        code, err = 124, err + f"\nkilled after {seconds:g} s\n".encode()
    after = _read(folder)
    for path in folder.rglob("*"):  # read-only folders would keep rmtree out
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)
    return after, out.decode(errors="replace"), err.decode(errors="replace"), code
