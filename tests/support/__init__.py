"""Reusable test helpers: real servers on loopback for end-to-end tests (see ``servers``)."""
