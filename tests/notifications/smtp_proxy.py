"""A TCP proxy in front of the SMTP sink, standing for the server's side of
the connections: it counts those it accepts and those still open, and can
drop one the way a server or a network does (on the client's next command,
just before the end of a message reaches the server, or just after the
server accepted it, losing the reply), or answer the client's next RSET
with a failure itself, as a server that could not reset the envelope."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

Cut = Literal["next_command", "before_end_of_data", "reply_to_data", "refuse_rset"]
END_OF_DATA = b"\r\n.\r\n"


class SmtpProxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.target_port = target_port
        self.port = 0
        self.connections = 0  # accepted, ever
        self.cut: Cut | None = None  # one-shot: the next connection to meet it is dropped
        self._open: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    @property
    def open_connections(self) -> int:
        return len(self._open)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._open):
            writer.close()
        for task in list(self._pumps):
            task.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        server_r, server_w = await asyncio.open_connection(self.host, self.target_port)
        self._open.add(client_w)
        state = {"data_ended": False}

        def drop() -> None:
            client_w.close()
            server_w.close()

        async def upstream() -> None:  # client -> server
            tail = b""
            while chunk := await client_r.read(65536):
                if self.cut == "next_command":
                    self.cut = None
                    return drop()
                if self.cut == "refuse_rset" and chunk.upper() == b"RSET\r\n":
                    self.cut = None
                    client_w.write(b"451 4.3.0 cannot reset the envelope\r\n")
                    await client_w.drain()
                    continue
                ends = END_OF_DATA in tail + chunk
                if ends and self.cut == "before_end_of_data":
                    self.cut = None
                    return drop()
                if ends and self.cut == "reply_to_data":
                    self.cut = None
                    state["data_ended"] = True
                server_w.write(chunk)
                await server_w.drain()
                tail = (tail + chunk)[-4:]

        async def downstream() -> None:  # server -> client
            while chunk := await server_r.read(65536):
                if state["data_ended"]:
                    return drop()  # the server took it; its "250" never arrives
                client_w.write(chunk)
                await client_w.drain()

        try:
            pumps = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
            self._pumps.update(pumps)
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pumps:
                task.cancel()
                self._pumps.discard(task)
            drop()
            self._open.discard(client_w)
            with contextlib.suppress(Exception):
                await client_w.wait_closed()
