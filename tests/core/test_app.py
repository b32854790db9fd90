"""The app factory: ``web=False`` builds services and plugins without any view, and the heavy
libraries that only some paths need are imported when first used, not at start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from spoc.core.storage import migrate

PROBE = """
import json, sys
from spoc import create_app
app = create_app(env="test", database_url=sys.argv[1], plugins=sys.argv[2].split(","), web=False)
print(json.dumps({"modules": sorted(sys.modules), "views": sorted(app.view_functions)}))
"""


def test_an_app_without_web_loads_no_view_and_no_heavy_library_before_it_is_needed(
    tmp_path: Path,
) -> None:
    plugins = "generic,healthcare,logistics,events,projects"
    url = f"sqlite:///{tmp_path / 'probe.sqlite'}"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, url, plugins],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    found = json.loads(out)
    modules = set(found["modules"])
    assert found["views"] == ["static"]
    for heavy in ("fhir", "alembic", "authlib", "requests", "markdown_it", "nh3"):
        assert heavy not in modules, f"{heavy} imported at start-up"
    assert not [m for m in modules if m.startswith("spoc.core.web.portal")]


def test_the_heads_read_from_the_files_are_alembics(tmp_path: Path) -> None:
    # Imported here: Alembic is what the light reader replaces at start-up.
    from alembic.script import ScriptDirectory

    from spoc.core.platform.plugins import load_plugins
    from spoc.core.platform.settings import load_settings

    settings = load_settings(
        env="test", plugins=["generic", "healthcare", "logistics", "events", "projects"]
    )
    for history in migrate.histories(load_plugins(settings)):
        expected = set(ScriptDirectory.from_config(history.config()).get_heads())
        assert history.heads() == expected, history.owner
