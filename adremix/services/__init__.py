"""Plain-Python business logic, grouped by domain. Nothing in this package imports Reflex.

Each package's `__init__` names what it offers; its modules are private to it. A public
function that the state layer calls owns its unit of work (it opens the session, commits
or rolls back) and returns plain data; helpers that take a `session` compose inside
another function's transaction.
"""
