"""Alembic environment: the URL from settings (or the caller), metadata from the models."""

from alembic import context
from sqlmodel import SQLModel

from adremix import models  # noqa: F401  (registers every table on SQLModel.metadata)
from adremix.db import engine_for
from adremix.settings import get_settings

config = context.config
url = config.attributes.get("database_url") or get_settings().database_url
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with engine_for(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
