"""WSGI apps for bench/intake.py, loaded by gunicorn in its worker processes."""

from __future__ import annotations

from flask import Flask, redirect, request

from spoc import create_app


def portal_app() -> Flask:
    # Settings come from SPOC_* variables set by bench/intake.py.
    return create_app()


def bare_app() -> Flask:
    """The floor: a Flask form endpoint that validates two fields and redirects."""
    app = Flask("bare")

    @app.get("/submit")
    def form() -> str:
        return '<form method="post"><input name="summary"><input name="email"></form>'

    @app.post("/submit")
    def submit() -> object:
        if not request.form.get("summary") or "@" not in request.form.get("email", ""):
            return "invalid", 422
        return redirect("/done", code=303)

    return app
