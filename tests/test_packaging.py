"""The wheel carries static/, templates/ and the migrations, and the app finds them there."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_static_templates_and_migrations(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(tmp_path.glob("cocalc_gateway-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "gateway/static/cocalc-bridge.js",
        "gateway/static/cocalc-bridge.d.ts",
        "gateway/static/cocalc-embed.js",
        "gateway/static/messaging.js",
        "gateway/templates/embed.html",
        "gateway/store/migrations/env.py",
        "gateway/store/migrations/versions/0001_initial_tables.py",
        # The catalogues, compiled by the build (hatch_build.py): git holds only the .po.
        "gateway/translations/de/LC_MESSAGES/messages.mo",
        "gateway/translations/es/LC_MESSAGES/messages.mo",
        "gateway/translations/fr/LC_MESSAGES/messages.mo",
    ):
        assert expected in names, expected
    assert not any(n.startswith(("tests/", "static/", "templates/")) for n in names)
    # The dev tools stay in the checkout: no simulator, demo, demo LMS or OIDC peer.
    assert not [n for n in names if n.startswith("gateway/dev/")]
    assert not [n for n in names if "simulator" in n or "demo-host" in n or "/lms/" in n]

    # Installed without the repository around it, the package finds its own folders.
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    found = subprocess.run(
        # run resources.py alone: the wheel was installed without its dependencies
        [
            python,
            "-c",
            "import runpy, sysconfig;"
            "r = runpy.run_path(sysconfig.get_paths()['purelib'] +"
            " '/gateway/support/resources.py')['resource_dir'];"
            "print(r('static')); print(r('templates'))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
    static, templates = found.stdout.split()
    assert "site-packages/gateway/static" in static
    assert (Path(templates) / "embed.html").is_file()
