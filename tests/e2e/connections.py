"""Which process answered a connection, read from ``/proc`` (Linux), not from the server.

The server is not asked (no debug header): the kernel knows. A client
connection on loopback has a server-side socket whose local port is the
server's and whose remote port is the client's own; ``/proc/net/tcp`` names that
socket's inode, and the one process holding a file descriptor on
``socket:[inode]`` is the worker that accepted it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import httpx

__all__ = ["client_port", "server_side_sockets", "serving_pid"]

_ESTABLISHED = "01"
_CLOSE_WAIT = "08"


def client_port(response: httpx.Response) -> int:
    """The local port of the connection ``response`` came over."""
    stream = response.extensions["network_stream"]
    port: int = stream.get_extra_info("client_addr")[1]
    return port


def _server_socket_inodes(server_port: int) -> dict[int, int]:
    """Client port -> inode of the server-side socket, for connections to ``server_port``."""
    found: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        lines = Path(table).read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
            if state != _ESTABLISHED or int(local.rsplit(":", 1)[1], 16) != server_port:
                continue
            found[int(remote.rsplit(":", 1)[1], 16)] = inode
    return found


def _socket_inodes_of(pid: int) -> set[int]:
    inodes: set[int] = set()
    folder = f"/proc/{pid}/fd"
    for fd in os.listdir(folder):
        try:
            target = os.readlink(f"{folder}/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def serving_pid(server_port: int, response: httpx.Response, pids: Iterable[int]) -> int | None:
    """The pid (among ``pids``) serving the connection ``response`` came over, if still open.

    Call it as soon as the response is in, before the connection can idle out.
    """
    inode = _server_socket_inodes(server_port).get(client_port(response))
    if inode is None:
        return None
    return next((pid for pid in pids if inode in _socket_inodes_of(pid)), None)


def server_side_sockets(server_port: int) -> dict[int, int]:
    """Client port -> bytes the server has not read yet, for the server's open sockets.

    Open: established, or closed by the client but not yet by the server (close-wait).
    A socket in the accept queue is listed too (the kernel accepted it), its bytes unread
    until a worker accepts and reads it; one the server has closed is not listed.
    """
    found: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state, queues = fields[1], fields[2], fields[3], fields[4]
            if state not in (_ESTABLISHED, _CLOSE_WAIT):
                continue
            if int(local.rsplit(":", 1)[1], 16) != server_port:
                continue
            found[int(remote.rsplit(":", 1)[1], 16)] = int(queues.split(":")[1], 16)
    return found
