"""Accounts: who may sign in, and how.

``passwords``: the contract's password rules and Argon2id hashing off the
event loop. ``accounts``: users made from the command line
(``ftf create-user``) with the input rules of ``createUser``. ``tokens``:
HS256 access tokens (PyJWT) and opaque refresh tokens. ``keys``: the
signing key, from ``AUTH_JWT_SECRET`` or kept in the database.
``sessions``: sessions, refresh-token rotation with reuse detection, and
the per-request liveness check. ``throttle``: failed logins per email.
``jwks``: an identity provider's RS256/ES256 tokens (``AUTH_JWKS_URL``).
``viewer``: a request's ``Authorization`` header to its viewer. ``service``:
what the auth mutations ask of all this (``schema.accounts.Accounts``).
Whatever another process must see lives in the database, not in memory.
"""
