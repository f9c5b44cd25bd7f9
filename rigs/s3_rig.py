"""An S3 endpoint on loopback for tests and benchmarks: moto's ThreadedMotoServer (the S3 API
over real HTTP, in a thread of this process), which the Node tus server's S3 store and the
region's intake child reach like any object store. Its buckets live in this process's
memory, so a server stopped and started again on the same port (an outage) still has them."""

from __future__ import annotations

import importlib.util
import logging
import uuid
from dataclasses import dataclass
from typing import Any

REGION = "us-east-1"


def moto_available() -> bool:
    """moto's server and boto3 are installed (the dev extra)."""
    return all(importlib.util.find_spec(name) is not None
               for name in ("moto", "boto3", "flask", "flask_cors"))


@dataclass(frozen=True)
class Bucket:
    """One bucket of the endpoint, with the credentials to reach it (moto takes any)."""

    endpoint: str
    name: str
    access_key: str = "rig-access-key"
    secret_key: str = "rig-secret-key"
    region: str = REGION

    def env(self) -> dict[str, str]:
        """The standard AWS environment a child process reads its credentials from."""
        return {"AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_REGION": self.region}

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key,
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 1}))


class S3Server:
    """moto's S3 on 127.0.0.1 (a free port, or ``port`` to come back on the same one)."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        from moto.server import ThreadedMotoServer

        # one line per request on stderr otherwise (werkzeug's request log)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port,
                                          verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            # stop() ends the serving loop but leaves the socket listening: connections would
            # then hang instead of being refused, which is not what a store that is down does
            server._server.server_close()

    def bucket(self, name: str | None = None) -> Bucket:
        """A new, empty bucket (a unique name: moto's state is per process, not per server)."""
        made = Bucket(self.url, name or f"tus-{uuid.uuid4().hex[:12]}")
        made.client().create_bucket(Bucket=made.name)
        return made

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
