"""Faithful fakes of external services, each a real HTTP server on 127.0.0.1."""
