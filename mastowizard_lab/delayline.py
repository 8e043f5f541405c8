"""A distant server on 127.0.0.1: a TCP relay that delays every byte by a fixed time in each direction,
as a network path does (bytes in flight are not held back by the ones before them, so throughput
stays and only the round trip grows). It carries TLS as it is, so it stands in front of any lab
server: S3, nginx's HTTPS media host, the Mastodon stand-in.

    with DelayLine(upstream_port, rtt=0.040) as line:     # 20 ms each way
        ... use 127.0.0.1:line.port ...
"""

from __future__ import annotations

import heapq
import socket
import threading
import time
from typing import Self


class DelayLine:
    def __init__(self, upstream_port: int, rtt: float, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.one_way = rtt / 2
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True, name="delayline")

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=30)
            except OSError:
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.settimeout(None)
            for src, dst in ((client, server), (server, client)):
                self._pipe(src, dst)

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        """Read SRC as fast as it sends; write each chunk to DST one_way seconds after it arrived."""
        queue: list[tuple[float, int, bytes]] = []
        ready = threading.Condition()
        seq = [0]

        def read() -> None:
            while True:
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                with ready:
                    seq[0] += 1
                    heapq.heappush(queue, (time.monotonic() + self.one_way, seq[0], data))
                    ready.notify()
                if not data:
                    return

        def write() -> None:
            while True:
                with ready:
                    while not queue:
                        ready.wait()
                    due, _, data = queue[0]
                    wait = due - time.monotonic()
                    if wait > 0:
                        ready.wait(wait)
                        continue
                    heapq.heappop(queue)
                try:
                    if not data:
                        dst.shutdown(socket.SHUT_WR)
                        return
                    dst.sendall(data)
                except OSError:
                    return

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()
