"""The mail templates: each enabled plugin's ``templates`` folder first, then the core's."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

if TYPE_CHECKING:
    from spoc.core.platform.plugins import PluginHost

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


def mail_environment(host: PluginHost) -> Environment:
    """Plugin template folders first (by plugin name), then the core's."""
    folders = []
    for name in sorted(host.enabled):
        plugin = host.pm.get_plugin(name)
        module = importlib.import_module(plugin.__name__) if plugin is not None else None
        if module is not None and getattr(module, "__file__", None):
            folder = Path(module.__file__).parent / "templates"  # type: ignore[arg-type]
            if folder.is_dir():
                folders.append(FileSystemLoader(str(folder)))
    folders.append(FileSystemLoader(str(TEMPLATES)))
    return Environment(
        loader=ChoiceLoader(folders),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        keep_trailing_newline=True,
        # Mail templates ship with the code: no file check before every mail rendered (a pass
        # that tells ten thousand requesters renders twenty thousand).
        auto_reload=False,
    )
