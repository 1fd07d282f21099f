"""The digest job: each morning, tell people of the open sessions they could take.

One inbox item and (with an address in staff.csv and SMTP set up) one e-mail per
person, at most one a day, never to whoever opted out (``usecases.open_digest``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from scheduler.config import public_address
from scheduler.jobs.alerts import Mail, count_words, mails_after_commit, network_name
from scheduler.storage.events import current_bundle
from scheduler.usecases.open_digest import SHOWN_PLACES, Digest, due_digests, place_words


def _mail(digest: Digest, bundle_words: list[str], network: str, base: str) -> Mail:
    count = len(digest.places)
    lines = [
        f"Hello {digest.person.name},",
        "",
        f"{network} has {count_words(count, 'open session', 'open sessions')} "
        "you could take without breaking any of your rota's rules (checked this morning):",
        "",
        *(f"- {words}" for words in bundle_words[:SHOWN_PLACES]),
    ]
    if count > SHOWN_PLACES:
        lines.append(f"- and {count - SHOWN_PLACES} more")
    lines += [
        "",
        f"Book one (or see why another is not for you): {base}{digest.page}",
        "Places go to whoever books first, and are checked again when you book.",
        "",
        "You get this e-mail at most once a day while there are places for you. To stop it,",
        "choose 'Stop the daily e-mail' on your open-sessions page (the link above).",
    ]
    subject = f"{count_words(count, 'open session', 'open sessions')} you could take"
    return Mail(f"{subject} ({network})", "\n".join(lines))


def run_digest(
    session: Session, network_id: int, now: dt.datetime, config: Mapping[str, Any]
) -> str:
    """Send today's digests; one line for the run history."""
    bundle = current_bundle(session, network_id)
    if not bundle.open_sessions.digest:
        return "no digest: the network turned it off (open_sessions.digest = false)"
    digests = due_digests(session, network_id, bundle, now)
    if not digests:
        return "nobody to tell: no open session someone could take, or already told today"
    network = network_name(session, network_id)
    base = public_address(config).base
    mails = [
        (d.person.email, _mail(d, [place_words(p, bundle) for p in d.places], network, base))
        for d in digests
        if d.person.email
    ]
    told = count_words(len(digests), "person", "people")
    without = len(digests) - len(mails)
    sent = mails_after_commit(session, config, mails, now) if mails else "nobody e-mailed"
    return f"{told} told in their inbox; {sent}" + (
        f"; {without} without an e-mail address" if without else ""
    )
