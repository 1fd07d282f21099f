"""Help pages: the words of the domain, in plain English, for every account."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth import ALL_ROLES, require

bp = Blueprint("help", __name__)


@bp.get("/help/glossary")
@require(*ALL_ROLES)
def glossary() -> str:
    """What session, hub, enhanced access, minimum and target and the other words mean."""
    return render_template("help/glossary.html")
