"""Launchers for local infrastructure: an embedded PostgreSQL and a NATS server.

Used by the dev supervisor (`make run`) and by pytest fixtures. Each launcher runs its
server as a foreground child process so that we own (and later stop) exactly that pid;
nothing here ever signals a process it cannot tie to its own data directory.
"""

from deploy.infra.nats_server import Nats
from deploy.infra.postgres import Postgres
from deploy.infra.process import PG_SYSTEM_USER, free_port

__all__ = ["PG_SYSTEM_USER", "Nats", "Postgres", "free_port"]
