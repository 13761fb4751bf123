"""Alembic migrations, runnable from any working directory.

``alembic_config(url)`` points Alembic at this folder and at a database, so
``ftf migrate`` and the tests need no ``alembic.ini``.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    # "%" is ConfigParser's interpolation character; URLs may contain it.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config
