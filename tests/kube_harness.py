"""A real Kubernetes control plane for the tests: etcd + kube-apiserver on loopback (the envtest pattern).

Both binaries are built from the pinned Go module in ``tests/kube`` (``k8s.io/kubernetes`` and
``go.etcd.io/etcd/server/v3``) once per machine into ``~/.cache/assess-tests/kube`` (override with
``ASSESS_TEST_CACHE``), keyed by a hash of the module's sources. The cache lives outside the
checkout because CI runs in a fresh clone on the same machine: a folder inside the checkout
would never be reused. GOMODCACHE and GOCACHE live in the same cache, so a rebuild after a
source change is incremental.

:func:`start_control_plane` starts etcd (plain HTTP on loopback, as envtest does) and
kube-apiserver (TLS with a test CA, ``--authorization-mode=RBAC``, a static admin token,
ServiceAccount token issuing) on random free ports and installs the real CRDs from
``../shared/schemas`` (see :mod:`tests.kube_crds`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = Path(__file__).resolve().parent / "kube"
CACHE = Path(os.environ.get("ASSESS_TEST_CACHE", Path.home() / ".cache" / "assess-tests")) / "kube"
BUILD_TIMEOUT_S = 3600
GO_CANDIDATES = ("/usr/local/go/bin/go", "/usr/lib/go/bin/go")
HOW_TO_FIX = (
    "install Go >= 1.25 (`go version`) with access to the Go module proxy, then run "
    "`python -m tests.kube_harness` once to build etcd and kube-apiserver into " + str(CACHE)
)
ADMIN_TOKEN = "assess-test-admin-token"
KUBERNETES_VERSION = "v1.35.4"  # as pinned in tests/kube/go.mod; stamped into the binary (``/version``)
LDFLAGS = " ".join(
    f"-X k8s.io/component-base/version.{key}={value}"
    for key, value in (("gitVersion", KUBERNETES_VERSION), ("gitMajor", "1"), ("gitMinor", "35"))
)


def _missing(reason: str):
    import pytest  # here, so that `python -m tests.kube_harness` needs no pytest

    message = f"real kube-apiserver unavailable: {reason}; {HOW_TO_FIX}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def source_digest() -> str:
    """Hash of everything the build depends on: go.mod, go.sum, the command sources, the flags."""
    digest = hashlib.sha256(LDFLAGS.encode())
    for path in sorted([MODULE / "go.mod", MODULE / "go.sum", *MODULE.glob("cmd/*/main.go")]):
        digest.update(path.relative_to(MODULE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def build_env() -> dict[str, str]:
    """Environment of the Go build: caches in CACHE, static binaries, the module's pinned versions."""
    return dict(
        os.environ,
        GOMODCACHE=str(CACHE / "gomod"),
        GOCACHE=str(CACHE / "gocache"),
        GOFLAGS="-mod=mod",
        GOTOOLCHAIN="local",
        CGO_ENABLED="0",
    )


def build(log=print) -> Path:
    """Build etcd and kube-apiserver into ``CACHE/bin-<digest>`` unless there; return that folder.

    A file lock makes concurrent callers (two pytest sessions) wait for one build.
    Raises RuntimeError with the end of the compiler output when the build fails.
    """
    folder = CACHE / f"bin-{source_digest()}"
    if all((folder / name).is_file() for name in ("etcd", "kube-apiserver")):
        return folder
    go = shutil.which("go") or next((g for g in GO_CANDIDATES if Path(g).is_file()), None)
    if go is None:
        raise FileNotFoundError("no `go` on PATH")
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all((folder / name).is_file() for name in ("etcd", "kube-apiserver")):
            return folder
        tmp = CACHE / f"tmp-{os.getpid()}"
        tmp.mkdir(exist_ok=True)
        go_cache = "warm" if (CACHE / "gocache").is_dir() else "cold"
        start = time.monotonic()
        for name in ("etcd", "kube-apiserver"):
            log(f"building {name} from tests/kube (first use on this machine; cached in {CACHE})")
            done = subprocess.run(
                [go, "build", "-trimpath", f"-ldflags={LDFLAGS}", "-o", str(tmp / name), f"./cmd/{name}"],
                cwd=MODULE,
                env=build_env(),
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT_S,
            )
            if done.returncode != 0:
                raise RuntimeError(f"building {name} failed:\n{done.stderr[-3000:]}")
        seconds = round(time.monotonic() - start, 1)
        (tmp / "build.json").write_text(json.dumps({"seconds": seconds, "go_cache": go_cache}))
        tmp.rename(folder)
    return folder


def binaries() -> Path:
    """The folder holding etcd and kube-apiserver; skips (fails on CI) when they cannot be built."""
    try:
        return build(log=lambda line: None)
    except FileNotFoundError as exc:
        _missing(str(exc))
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        _missing(str(exc))
    raise AssertionError("unreachable")  # pragma: no cover


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_pki(folder: Path) -> dict[str, Path]:
    """A test CA, a serving certificate for 127.0.0.1 signed by it, and a ServiceAccount key pair."""
    folder.mkdir(parents=True, exist_ok=True)
    p = {k: folder / f"{k}.pem" for k in ("ca", "ca-key", "server", "server-key", "sa-key", "sa-pub")}
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=assess-test-ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
        "-keyout",
        str(p["ca-key"]),
        "-out",
        str(p["ca"]),
    )
    csr = folder / "server.csr"
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=kube-apiserver",
        "-keyout",
        str(p["server-key"]),
        "-out",
        str(csr),
    )
    ext = folder / "server.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    _openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(p["ca"]),
        "-CAkey",
        str(p["ca-key"]),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        str(ext),
        "-out",
        str(p["server"]),
    )
    _openssl("genrsa", "-out", str(p["sa-key"]), "2048")
    _openssl("rsa", "-in", str(p["sa-key"]), "-pubout", "-out", str(p["sa-pub"]))
    return p


@dataclass
class ControlPlane:
    """A running etcd + kube-apiserver: where they listen, the CA to trust, the admin token.

    ``build_seconds`` is how long the first (cold) build took on this machine; ``ready_seconds``
    how long this start took, finding or building the binaries included.
    """

    folder: Path
    etcd_url: str
    host: str
    ca: Path
    processes: list[subprocess.Popen] = field(default_factory=list)
    build_seconds: float | None = None
    build_go_cache: str = ""
    ready_seconds: float | None = None
    version: str = ""

    def kubeconfig(self, path: Path, token: str = ADMIN_TOKEN, server: str | None = None) -> Path:
        """Write a kubeconfig for ``token`` (default: the admin) and return its path."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "test",
                    "cluster": {"server": server or self.host, "certificate-authority": str(self.ca)},
                }
            ],
            "users": [{"name": "user", "user": {"token": token}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": "user"}}],
            "current-context": "test",
        }
        path.write_text(json.dumps(config))
        return path

    def request(
        self,
        method: str,
        path: str,
        body=None,
        token: str = ADMIN_TOKEN,
        content_type: str = "application/json",
    ) -> tuple[int, dict]:
        """One raw API request (for setup and assertions); returns (status, JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.host + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": content_type,
                "Accept": "application/json",
            },
        )
        context = ssl.create_default_context(cafile=str(self.ca))
        try:
            with urllib.request.urlopen(req, context=context, timeout=30) as resp:
                return resp.status, _json(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _json(exc.read())

    def etcd(self, endpoint: str, body: dict) -> dict:
        """A call to etcd's v3 JSON gateway (``kv/range``, ``kv/compaction``)."""
        req = urllib.request.Request(
            f"{self.etcd_url}/v3/{endpoint}", data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def compact(self) -> int:
        """Compact etcd's history up to its current revision (what the apiserver does every 5 min)."""
        revision = int(self.etcd("kv/range", {"key": "Lw=="})["header"]["revision"])
        self.etcd("kv/compaction", {"revision": revision, "physical": True})
        return revision

    def stop(self) -> None:
        """Stop kube-apiserver, then etcd (SIGTERM, then SIGKILL after 10 s)."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _json(body: bytes) -> dict:
    try:
        return json.loads(body or b"{}")
    except ValueError:
        return {"message": body.decode(errors="replace")}


def _wait_ready(plane: ControlPlane, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kube-apiserver exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            status, _ = plane.request("GET", "/readyz")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"kube-apiserver not ready after {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _start_etcd(bin_dir: Path, folder: Path) -> tuple[subprocess.Popen, str]:
    client, peer = free_port(), free_port()
    url = f"http://127.0.0.1:{client}"
    log = (folder / "etcd.log").open("w")
    process = subprocess.Popen(
        [
            str(bin_dir / "etcd"),
            "--data-dir",
            str(folder / "etcd"),
            "--name",
            "test",
            "--listen-client-urls",
            url,
            "--advertise-client-urls",
            url,
            "--listen-peer-urls",
            f"http://127.0.0.1:{peer}",
            "--initial-advertise-peer-urls",
            f"http://127.0.0.1:{peer}",
            "--initial-cluster",
            f"test=http://127.0.0.1:{peer}",
            "--unsafe-no-fsync",
            "--log-level",
            "warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, url


def apiserver_args(bin_dir: Path, folder: Path, pki: dict[str, Path], etcd_url: str, port: int) -> list[str]:
    """The kube-apiserver command line: TLS, RBAC, static admin token, ServiceAccount tokens."""
    tokens = folder / "tokens.csv"
    tokens.write_text(f'{ADMIN_TOKEN},assess-admin,uid-admin,"system:masters"\n')
    return [
        str(bin_dir / "kube-apiserver"),
        f"--etcd-servers={etcd_url}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={folder / 'certs'}",
        f"--tls-cert-file={pki['server']}",
        f"--tls-private-key-file={pki['server-key']}",
        f"--client-ca-file={pki['ca']}",
        f"--token-auth-file={tokens}",
        "--authorization-mode=RBAC",
        "--service-cluster-ip-range=10.96.0.0/24",
        f"--service-account-key-file={pki['sa-pub']}",
        f"--service-account-signing-key-file={pki['sa-key']}",
        "--service-account-issuer=https://kubernetes.default.svc",
        "--api-audiences=https://kubernetes.default.svc",
        # Pods are never run here; VirtualMachineInstances have no watch cache so that etcd
        # compaction gives the real 410 on a watch from an old resourceVersion.
        "--watch-cache-sizes=virtualmachineinstances.kubevirt.io#0",
        "--enable-priority-and-fairness=false",
        "--v=0",
    ]


def start_control_plane(folder: Path) -> ControlPlane:
    """Start etcd and kube-apiserver under ``folder`` and wait until the API is ready."""
    started = time.monotonic()
    bin_dir = binaries()
    build_info = bin_dir / "build.json"
    folder.mkdir(parents=True, exist_ok=True)
    pki = make_pki(folder / "pki")
    etcd, etcd_url = _start_etcd(bin_dir, folder)
    port = free_port()
    log = folder / "kube-apiserver.log"
    api = subprocess.Popen(
        apiserver_args(bin_dir, folder, pki, etcd_url, port), stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    built = json.loads(build_info.read_text()) if build_info.is_file() else {}
    plane = ControlPlane(
        folder,
        etcd_url,
        f"https://127.0.0.1:{port}",
        pki["ca"],
        [etcd, api],
        built.get("seconds"),
        built.get("go_cache", ""),
    )
    try:
        _wait_ready(plane, api, log)
    except BaseException:
        plane.stop()
        raise
    plane.ready_seconds = round(time.monotonic() - started, 1)
    plane.version = plane.request("GET", "/version")[1].get("gitVersion", "")
    return plane


if __name__ == "__main__":  # pragma: no cover - `python -m tests.kube_harness` builds ahead of time
    started = time.monotonic()
    print(build())
    print(f"ready in {time.monotonic() - started:.0f} s")
