"""Bundled plugins. Each registers through the ``spoc.plugins`` entry point like any other."""
