"""Reflex state classes: thin glue between pages and services."""
