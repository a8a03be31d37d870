"""Starts the watchtrail binary once for the session and gives tests clients pointed at it.

Set WATCHTRAIL_BIN to the binary to test (CI uses the release build); the default is the
release build, then the debug build, of this checkout.
"""
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import botocore.session
import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = ["query", "json", "smithy-rpc-v2-cbor"]


def _binary():
    configured = os.environ.get("WATCHTRAIL_BIN")
    if configured:
        return str((ROOT / configured) if not os.path.isabs(configured) else configured)
    for candidate in ("target/release/watchtrail", "target/debug/watchtrail"):
        if (ROOT / candidate).exists():
            return str(ROOT / candidate)
    raise RuntimeError("build watchtrail first (cargo build --release)")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def endpoint():
    port = _free_port()
    proc = subprocess.Popen(
        [_binary(), "--ephemeral", "--port", str(port), "--log-level", "warn"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while True:
        try:
            with urllib.request.urlopen(url + "/_watchtrail/health", timeout=1) as r:
                if json.load(r)["status"] == "ok":
                    break
        except OSError:
            if time.time() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(autouse=True)
def reset(endpoint):
    request = urllib.request.Request(endpoint + "/_watchtrail/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=5) as r:
        assert r.status == 200
    yield


def make_client(endpoint, service, protocol=None, access_key="test"):
    """A botocore client; for CloudWatch, forced to one of the protocols its model offers."""
    session = botocore.session.get_session()
    if protocol is not None:
        loader = session.get_component("data_loader")
        original = loader.load_service_model

        def load(service_name, type_name, api_version=None):
            model = original(service_name, type_name, api_version)
            if service_name == service and type_name == "service-2":
                model = json.loads(json.dumps(model))
                model["metadata"]["protocol"] = protocol
                model["metadata"]["protocols"] = [protocol]
            return model

        loader.load_service_model = load
    client = session.create_client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
    )
    sent = []
    client.meta.events.register("before-send", lambda request, **_: sent.append(request) or None)
    client.sent_requests = sent
    return client


@pytest.fixture(params=PROTOCOLS)
def cloudwatch(request, endpoint):
    client = make_client(endpoint, "cloudwatch", request.param)
    client.protocol_name = request.param
    return client


@pytest.fixture
def logs(endpoint):
    return make_client(endpoint, "logs")


@pytest.fixture
def aws(endpoint):
    """Runs the aws command against watchtrail and returns (exit code, parsed stdout, stderr)."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")

    def run(*args):
        done = subprocess.run(
            ["aws", "--endpoint-url", endpoint, "--output", "json", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        out = json.loads(done.stdout) if done.stdout.strip() else None
        return done.returncode, out, done.stderr

    return run
