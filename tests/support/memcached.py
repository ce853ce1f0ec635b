"""Read back everything a test Memcached holds."""

import socket
from urllib.parse import unquote


def memcached_values(address):
    """Return every (key, value) Memcached holds, listed with lru_crawler metadump."""
    from pymemcache.client.base import Client

    with socket.socket(socket.AF_UNIX) as connection:
        connection.connect(address)
        connection.sendall(b"lru_crawler metadump all\r\n")
        data = b""
        while not data.endswith(b"END\r\n"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            data += chunk
    keys = [unquote(part.split("=", 1)[1]) for line in data.decode().splitlines()
            for part in line.split() if part.startswith("key=")]
    client = Client(address)
    try:
        return [(key, client.get(key)) for key in keys]
    finally:
        client.close()
