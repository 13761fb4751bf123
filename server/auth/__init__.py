"""Accounts: who may sign in, and how.

``passwords``: the contract's password rules and Argon2id hashing off the
event loop. ``accounts``: users made from the command line
(``ftf create-user``) with the input rules of ``createUser``.
"""
