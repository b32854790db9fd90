"""``spoc new-plugin NAME``: a plugin distribution that installs with pip and passes its own
tests as generated, from the templates in ``templates/plugin``."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import click

from spoc.core.cli.base import main
from spoc.core.kernel.version import VERSION

TEMPLATES = Path(__file__).parent / "templates" / "plugin"
NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


def plugin_files(name: str, today: date) -> dict[Path, str]:
    """The generated files of plugin ``name``, by path inside its distribution folder."""
    package = f"spoc_{name}"
    values = {
        "name": name,
        "package": package,
        "distribution": f"spoc-{name.replace('_', '-')}",
        "title": name.replace("_", " ").title(),
        "spoc_version": VERSION,
        "date": today.isoformat(),
    }
    files: dict[Path, str] = {}
    for template in sorted(TEMPLATES.rglob("*.tmpl")):
        relative = template.relative_to(TEMPLATES).with_suffix("")
        if relative.parts[0] == "package":
            relative = Path(package, *relative.parts[1:])
        text = template.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        files[relative] = text
    return files


@main.command("new-plugin")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to create the plugin's folder (spoc-NAME).",
)
def new_plugin(name: str, directory: Path) -> None:
    """Create a plugin distribution NAME: a request type, a table with its migration, a
    console panel and tests on spoc.testing."""
    if not NAME.match(name):
        raise click.ClickException(
            f"{name!r} is not a plugin name: lower-case letters, digits and _, starting with a "
            "letter (it prefixes the plugin's keys, tables and settings)"
        )
    files = plugin_files(name, date.today())  # noqa: DTZ011 (a file's creation date, local)
    target = directory / f"spoc-{name.replace('_', '-')}"
    if target.exists():
        raise click.ClickException(f"{target} already exists")
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    click.echo(f"Created {target}: pip install -e '{target}[test]' && pytest {target}")
