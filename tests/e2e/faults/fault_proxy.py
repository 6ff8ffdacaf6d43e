#!/usr/bin/env python3
"""A loopback TCP forwarder whose behaviour a test switches at run time, to play a Git server
that is down or slow.

  fault_proxy.py PORT_FILE MODE_FILE UPSTREAM_HOST UPSTREAM_PORT

Listens on 127.0.0.1:0, writes its port to PORT_FILE, forwards to UPSTREAM. MODE_FILE holds
one word, read for every new connection and every 100 ms:
  forward  pass everything through (also when MODE_FILE is missing);
  down     stop listening: new connections are refused, open ones are cut;
  stall    pass requests through, but once a response carrying a Git pack (an answer to
           git-upload-pack) has sent STALL_BYTES (default 4096) bytes, stop forwarding and hold
           the connection open without a byte more: a server stuck mid-pack.
Prints one line per connection to stdout ("<mode> <request line>") for the test's log.
"""
import asyncio
import os
import sys

STALL_BYTES = int(os.environ.get("STALL_BYTES", "4096"))


def mode(path):
    try:
        with open(path) as f:
            return f.read().strip() or "forward"
    except OSError:
        return "forward"


class Proxy:
    def __init__(self, port_file, mode_file, host, port):
        self.port_file, self.mode_file = port_file, mode_file
        self.host, self.upstream_port = host, port
        self.port = 0
        self.server = None
        self.writers = set()

    async def pipe(self, reader, writer, response, state):
        sent = 0
        try:
            while data := await reader.read(65536):
                if response and state.get("pack") and mode(self.mode_file) == "stall":
                    room = max(0, STALL_BYTES - sent)
                    if room < len(data):
                        writer.write(data[:room])
                        await writer.drain()
                        print(f"stall after {sent + room} bytes", flush=True)
                        while mode(self.mode_file) == "stall":
                            await asyncio.sleep(0.1)
                        writer.close()  # the client has long given up; start clean
                        return
                if not response and b"git-upload-pack" in data and b"POST" in data:
                    state["pack"] = True
                writer.write(data)
                sent += len(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def handle(self, client_reader, client_writer):
        m = mode(self.mode_file)
        if m == "down":
            client_writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.upstream_port)
        except OSError:
            client_writer.close()
            return
        self.writers.update({client_writer, up_writer})
        state = {}
        print(f"{m} connection", flush=True)
        await asyncio.gather(self.pipe(client_reader, up_writer, False, state),
                             self.pipe(up_reader, client_writer, True, state))
        self.writers.difference_update({client_writer, up_writer})

    async def listen(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", self.port,
                                                 reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def run(self):
        await self.listen()
        with open(self.port_file + ".tmp", "w") as f:
            f.write(str(self.port))
        os.rename(self.port_file + ".tmp", self.port_file)
        while True:
            await asyncio.sleep(0.1)
            m = mode(self.mode_file)
            if m == "down" and self.server is not None:
                self.server.close()
                for w in list(self.writers):
                    w.close()
                try:
                    await asyncio.wait_for(self.server.wait_closed(), 2)
                except asyncio.TimeoutError:
                    pass
                self.server = None
                print("down: not listening", flush=True)
            elif m != "down" and self.server is None:
                await self.listen()
                print(f"{m}: listening again", flush=True)


def main():
    port_file, mode_file, host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    asyncio.run(Proxy(port_file, mode_file, host, port).run())


if __name__ == "__main__":
    main()
