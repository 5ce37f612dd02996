"""A pytest plugin loaded before Django (``-p tests.testenv``): every run gets a fresh
secret key, a fresh master key and a scratch data directory. No key is committed."""

from __future__ import annotations

import base64
import os
import secrets
import tempfile

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault(
    "AMPARO_MASTER_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
)
os.environ.setdefault("AMPARO_DATA_DIR", tempfile.mkdtemp(prefix="amparo-test-"))
# Test clients and the live server open connections from several threads; persistent
# connections would outlive the test database.
os.environ["AMPARO_CONN_MAX_AGE"] = "0"
# The test client speaks plain HTTP.
os.environ.setdefault("AMPARO_SECURE_COOKIES", "false")
os.environ.setdefault("AMPARO_HSTS_SECONDS", "0")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# The rate limits' counters (core.ratelimit) live in the database and outlive a live
# server's test: off for the suite, on in tests/core/test_ratelimit.py.
os.environ.setdefault("AMPARO_RATE_LIMITS", "false")
