"""``spoc new-plugin`` makes a distribution that pip installs and whose own tests pass as
generated, with nothing but ``spoc`` and ``spoc.testing``."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from spoc.core.cli import main

BIN = Path(sys.executable).parent


def new_plugin(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["new-plugin", *args])
    return result.exit_code, result.output


def test_new_plugin_writes_a_distribution_with_each_part(tmp_path: Path) -> None:
    code, output = new_plugin("badges", "--dir", str(tmp_path))
    assert code == 0, output
    root = tmp_path / "spoc-badges"
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        "README.md",
        "pyproject.toml",
        "spoc_badges/__init__.py",
        "spoc_badges/migrations/n001_records.py",
        "spoc_badges/models.py",
        "spoc_badges/py.typed",
        "tests/conftest.py",
        "tests/test_plugin.py",
    ]
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points."spoc.plugins"]\nbadges = "spoc_badges"' in pyproject
    assert "{{" not in "".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py"))


def test_new_plugin_refuses_a_bad_name_and_an_existing_folder(tmp_path: Path) -> None:
    code, output = new_plugin("Badges-2", "--dir", str(tmp_path))
    assert code == 1 and "is not a plugin name" in output
    assert new_plugin("badges", "--dir", str(tmp_path))[0] == 0
    code, output = new_plugin("badges", "--dir", str(tmp_path))
    assert code == 1 and "already exists" in output


@pytest.mark.slow
def test_a_generated_plugin_installs_with_pip_and_passes_its_own_tests(tmp_path: Path) -> None:
    assert new_plugin("badges", "--dir", str(tmp_path))[0] == 0
    source = tmp_path / "spoc-badges"
    site = tmp_path / "site"
    # A real (not editable) install: the package, its migration and its entry point must all
    # come through packaging. spoc and the test kit are this environment's.
    subprocess.run(
        [BIN / "pip", "install", "--quiet", "--no-deps", "--target", site, source],
        check=True,
        timeout=300,
    )
    assert (site / "spoc_badges" / "migrations" / "n001_records.py").exists()
    env = {**os.environ, "PYTHONPATH": str(site)}
    # Run from the plugin's folder with its own pytest settings, as its author would.
    result = subprocess.run(
        [BIN / "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    backends = 2 if os.environ.get("SPOC_TEST_DATABASE_URL") else 1
    assert f"{3 * backends} passed" in result.stdout


@pytest.mark.slow
def test_the_wheel_ships_type_hints_the_test_kit_and_the_plugin_templates(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    subprocess.run(
        [BIN / "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", tmp_path, root],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("spoc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"spoc/py.typed", "spoc/testing/plugin.py"} <= names
    templates = root / "spoc" / "core" / "cli" / "templates"
    assert {
        f"spoc/core/cli/templates/{p.relative_to(templates)}" for p in templates.rglob("*.tmpl")
    } <= names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert (
        "[pytest11]\nspoc = spoc.testing.plugin"
        in zipfile.ZipFile(wheel).read(entry_points).decode()
    )
