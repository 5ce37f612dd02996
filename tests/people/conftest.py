import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is what production uses and costs ~0.5 s a hash on a busy runner; these
    tests hash a password for every persona, so they use a fast hasher instead. Nothing
    here tests the hasher itself."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
