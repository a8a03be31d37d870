"""Compatibility suite: starts one watchtrail server for the session and hands tests real AWS
clients (boto3/botocore and the aws command) pointed at it.

WATCHTRAIL_BIN names the binary under test (relative paths are taken from the repository root);
without it the release build of this checkout is used, else the debug build.

CloudWatch speaks three protocols, and its botocore model lists all of them in
``metadata.protocols``; botocore uses the first one it supports. To test each one, clients are
built from a session whose data loader hands out the CloudWatch model with ``metadata.protocol``
and ``metadata.protocols`` narrowed to a single protocol (see ``ProtocolLoader``).
"""
import contextlib
import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import botocore.loaders
import botocore.session
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"
PROTOCOLS = ["query", "json", "smithy-rpc-v2-cbor"]
# The aws command of the interpreter running the suite (its venv), else the one on PATH.
AWS_CLI = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws") or "aws"


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


def _binary():
    configured = os.environ.get("WATCHTRAIL_BIN")
    candidates = [configured] if configured else ["target/release/watchtrail", "target/debug/watchtrail"]
    for candidate in candidates:
        path = Path(candidate)
        path = path if path.is_absolute() else ROOT / path
        if path.is_file():
            return str(path)
    raise RuntimeError(f"watchtrail binary not found (tried {', '.join(candidates)}); build it with cargo build")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url):
    try:
        with urllib.request.urlopen(url + "/_watchtrail/health", timeout=1) as r:
            return r.status == 200 and json.load(r).get("status") == "ok"
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def running_server(*extra_args):
    """Runs `watchtrail --ephemeral` (plus `extra_args`) on a free port; yields its URL."""
    port = _free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [_binary(), "--ephemeral", "--port", str(port), "--log-level", "warn", *extra_args],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            log.seek(0)
            raise RuntimeError(f"watchtrail did not become healthy on {url}:\n{log.read().decode(errors='replace')}")
        time.sleep(0.05)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def endpoint():
    """Starts `watchtrail --ephemeral` on a free port, yields its URL, and stops it."""
    with running_server() as url:
        yield url


def reset_server(url, admin_token=None):
    """Wipes the server's state (with `admin_token` where the server enforces signatures)."""
    headers = {"x-watchtrail-admin-token": admin_token} if admin_token else {}
    request = urllib.request.Request(url + "/_watchtrail/reset", method="POST", data=b"", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.status == 200


@pytest.fixture(autouse=True)
def reset(endpoint):
    """Every test starts from an empty server."""
    reset_server(endpoint)
    yield


# ---------------------------------------------------------------------------------------------
# botocore clients, optionally forced to one protocol
# ---------------------------------------------------------------------------------------------


class ProtocolLoader(botocore.loaders.Loader):
    """A botocore loader that serves one service's model narrowed to a single protocol."""

    def __init__(self, service, protocol):
        super().__init__()
        self.forced_service = service
        self.forced_protocol = protocol

    def load_service_model(self, service_name, type_name, api_version=None):
        model = super().load_service_model(service_name, type_name, api_version)
        if service_name == self.forced_service and type_name == "service-2":
            model = copy.deepcopy(model)
            supported = model["metadata"].get("protocols", [model["metadata"]["protocol"]])
            if self.forced_protocol not in supported:
                raise ValueError(f"{service_name} does not offer {self.forced_protocol}: {supported}")
            model["metadata"]["protocol"] = self.forced_protocol
            model["metadata"]["protocols"] = [self.forced_protocol]
        return model


_SESSIONS = {}


def _session(service, protocol):
    """One botocore session per (service, protocol): model loading is the slow part."""
    key = (service, protocol)
    if key not in _SESSIONS:
        session = botocore.session.Session()
        if protocol is not None:
            session.register_component("data_loader", ProtocolLoader(service, protocol))
        _SESSIONS[key] = session
    return _SESSIONS[key]


class Wire:
    """What a client put on the wire: each request as sent and each response's headers."""

    def __init__(self):
        self.requests = []
        self.responses = []

    def on_send(self, request, **_):
        self.requests.append(request)

    def on_parse(self, response_dict, **_):
        self.responses.append(response_dict)


def make_client(endpoint, service, protocol=None, access_key=ACCESS_KEY, validate=True, region=REGION,
                secret_key=SECRET_KEY, **config):
    """A botocore client for `service` against watchtrail, forced to `protocol` if given.

    `client.wire` records the requests sent and the raw responses received, and
    `client.protocol` is the protocol the client really speaks. Extra keyword arguments go to
    botocore's Config.
    """
    client = _session(service, protocol).create_client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(
            parameter_validation=validate,
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
            **config,
        ),
    )
    wire = Wire()
    client.meta.events.register("before-send", wire.on_send)
    client.meta.events.register("before-parse", wire.on_parse)
    client.wire = wire
    client.protocol = client.meta.service_model.resolved_protocol
    if protocol is not None:
        assert client.protocol == protocol
    return client


@pytest.fixture(params=PROTOCOLS, ids=["query", "json", "cbor"])
def protocol(request):
    return request.param


@pytest.fixture
def cloudwatch(endpoint, protocol):
    """A CloudWatch client forced to each protocol in turn."""
    return make_client(endpoint, "cloudwatch", protocol)


@pytest.fixture
def cloudwatch_unvalidated(endpoint, protocol):
    """The same, with botocore's client-side parameter validation off, to reach server errors."""
    return make_client(endpoint, "cloudwatch", protocol, validate=False)


@pytest.fixture
def sts(endpoint):
    return make_client(endpoint, "sts")


@pytest.fixture
def logs(endpoint):
    return make_client(endpoint, "logs")


# ---------------------------------------------------------------------------------------------
# aws-cli
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def aws(endpoint, tmp_path):
    """Runs `aws --endpoint-url <watchtrail> --output json ...`; returns (exit code, parsed stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_PAGER="",
    )

    def run(*args):
        done = subprocess.run(
            [AWS_CLI, "--endpoint-url", endpoint, "--output", "json", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        out = json.loads(done.stdout) if done.stdout.strip() else None
        return done.returncode, out, done.stderr

    return run


# ---------------------------------------------------------------------------------------------
# The web console in a real browser
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless chromium over chromedriver, one for the session."""
    from console_support import start_browser

    driver = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def console(browser, endpoint, request):
    """The console for one test: a screenshot at the end, and no browser-console errors allowed."""
    from console_support import console_view

    with console_view(browser, endpoint, request) as view:
        yield view
