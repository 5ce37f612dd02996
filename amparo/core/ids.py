"""Primary keys for the tables written on every threat report and alert.

A random UUID (version 4) lands each new row at a random place of the key's index, so a
transaction that inserts a report, its alert, its checklist and its messages touches a
different index page per row: on SQLite each of those pages goes whole into the
write-ahead log at commit, inside the database's only write lock. A UUID version 7
(RFC 9562) starts with the time in milliseconds, so new rows go to the end of the index,
as with a counter, and stay unguessable (74 random bits).

What it gives away: the time the row was made, to whoever sees the key. Keys appear
only to members of the organisation, in the addresses of pages that show that time
anyway; receipt codes, the only references given to an anonymous reporter, stay random
(incidents.actions.new_receipt).
"""

from __future__ import annotations

import uuid

import uuid6


def time_ordered_id() -> uuid.UUID:
    """A new UUID version 7, as a plain ``uuid.UUID``."""
    return uuid.UUID(int=uuid6.uuid7().int)
