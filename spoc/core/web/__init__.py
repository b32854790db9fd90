"""The web layer: the portal, the console and the JSON API, and the pieces they share.

Each of ``portal``, ``console`` and ``api`` registers itself with ``init_app(app)``; the
application factory (:mod:`spoc.core.app`) calls them. Nothing here imports the factory."""
