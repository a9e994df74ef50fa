"""Connecting to vCenter: credentials, TLS policy (CA file, thumbprint pin, insecure), login, re-login.

The password is read from an environment variable or a file only, kept in memory for
re-login, and never written anywhere. TLS is verified by default; a pinned thumbprint is
checked on every new connection, whether or not a CA also vouches for the certificate.
"""

from __future__ import annotations

import hashlib
import logging
import os
import ssl
import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import dataclass, field
from http.client import HTTPException, HTTPSConnection
from pathlib import Path

from pyVmomi import SoapStubAdapter, vim, vmodl
from pyVmomi.VmomiSupport import GetServiceVersions, versionIdMap

from assess.model.errors import AssessError

PASSWORD_ENV = "VSPHERE_PASSWORD"
SERVER_ENV = "VSPHERE_SERVER"
USER_ENV = "VSPHERE_USER"
#: Used when the server publishes no vimServiceVersions.xml (vSphere 5.5 namespace).
FALLBACK_API_VERSION = "vim.version.version9"
#: Seconds to open a connection (TCP and TLS handshake) and to wait for any answer once
#: connected: a vCenter that accepts the connection and never answers must not hang a collect.
CONNECT_TIMEOUT_S = 20.0
READ_TIMEOUT_S = 300.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """Where and how to connect: server, user, password (hidden from repr) and TLS policy."""

    server: str
    user: str
    password: str = field(repr=False)
    port: int = 443
    ca_file: Path | None = None
    thumbprint: str | None = None
    insecure: bool = False
    connect_timeout_s: float = CONNECT_TIMEOUT_S
    read_timeout_s: float = READ_TIMEOUT_S

    @property
    def address(self) -> str:
        """``host:port`` for messages."""
        return f"{self.server}:{self.port}"

    def timed_out(self) -> AssessError:
        """The one-line error for a server that did not answer in time."""
        return AssessError(
            f"vCenter {self.address} did not answer in time (connect timeout {self.connect_timeout_s:g} s, "
            f"read timeout {self.read_timeout_s:g} s): check that it is up and reachable, or raise "
            "--connect-timeout/--read-timeout (connect_timeout_s/read_timeout_s in the config)"
        )


def read_password(password_file: Path | None = None, env: str = PASSWORD_ENV) -> str:
    """Return the password from ``password_file`` (first line) or the environment variable ``env``."""
    if password_file is not None:
        try:
            text = Path(password_file).read_text().splitlines()
        except OSError as exc:
            raise AssessError(f"cannot read password file {password_file}: {exc.strerror}") from exc
        if not text or not text[0]:
            raise AssessError(f"password file {password_file} is empty; put the password on line 1")
        return text[0]
    password = os.environ.get(env)
    if not password:
        raise AssessError(f"no vCenter password: set env {env} or pass --password-file FILE")
    return password


def split_server(server: str) -> tuple[str, int]:
    """Split ``host``, ``host:port`` or ``https://host:port/sdk`` into host and port (default 443)."""
    text = server.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].rsplit("@", 1)[-1]
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else 443
    host, _, port = text.partition(":")
    if not host:
        raise AssessError(f"server '{server}' names no host; pass --server HOST[:PORT]")
    return host, int(port) if port else 443


def _normal_thumbprint(thumbprint: str) -> str:
    digest = thumbprint.replace(":", "").strip().lower()
    if len(digest) not in (40, 64) or any(c not in "0123456789abcdef" for c in digest):
        raise AssessError(
            f"thumbprint '{thumbprint}' is not a SHA-1 or SHA-256 hex digest "
            "(40 or 64 hex digits, colons allowed)"
        )
    return digest


def tls_context(target: Target) -> ssl.SSLContext:
    """Return the SSL context for ``target``: verified (system or ``ca_file`` CAs) unless pinned/insecure."""
    if target.insecure or target.thumbprint:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(cafile=str(target.ca_file) if target.ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise AssessError(f"cannot load CA file {target.ca_file}: {exc}; pass a PEM file") from exc


class PinnedHTTPSConnection(HTTPSConnection):
    """An HTTPS connection that refuses a server whose certificate does not match a pinned thumbprint.

    ``timeout`` bounds the connection (TCP and TLS handshake); ``read_timeout`` then bounds
    every wait for the server's answer.
    """

    def __init__(self, *args, thumbprint: str | None = None, read_timeout: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pinned = _normal_thumbprint(thumbprint) if thumbprint else None
        self.read_timeout = read_timeout

    def connect(self) -> None:
        """Open the TLS connection, then compare the peer certificate with the pin."""
        super().connect()
        if self.read_timeout is not None:
            self.sock.settimeout(self.read_timeout)
        if not self.pinned:
            return
        der = self.sock.getpeercert(binary_form=True)
        algorithm = hashlib.sha1 if len(self.pinned) == 40 else hashlib.sha256
        actual = algorithm(der).hexdigest()
        if actual != self.pinned:
            self.close()
            raise AssessError(
                f"TLS certificate of {self.host}:{self.port} does not match the pinned thumbprint: "
                f"expected {self.pinned}, server presented {actual}. Check --thumbprint "
                "(the server or a machine in between may not be who you think)"
            )


def open_https(target: Target) -> PinnedHTTPSConnection:
    """Return a connected HTTPS connection to ``target`` under its TLS policy and timeouts."""
    conn = PinnedHTTPSConnection(
        target.server, target.port, context=tls_context(target), timeout=target.connect_timeout_s,
        thumbprint=target.thumbprint, read_timeout=target.read_timeout_s,
    )
    try:
        conn.connect()
    except ssl.SSLCertVerificationError as exc:
        raise AssessError(
            f"TLS certificate of {target.address} is not trusted ({exc.verify_message}); pass "
            "--ca-file with the vCenter CA, or --thumbprint to pin its certificate "
            "(--insecure skips verification)"
        ) from exc
    except TimeoutError as exc:
        raise target.timed_out() from exc
    except (OSError, HTTPException) as exc:
        raise AssessError(f"cannot connect to {target.address}: {exc}") from exc
    return conn


def api_version(target: Target) -> str:
    """Return the newest vim25 API version both pyVmomi and the server speak."""
    conn = open_https(target)
    try:
        conn.request("GET", "/sdk/vimServiceVersions.xml")
        response = conn.getresponse()
        body = response.read()
    except TimeoutError as exc:
        raise target.timed_out() from exc
    except (OSError, HTTPException) as exc:
        raise AssessError(f"cannot read API versions from {target.address}: {exc}") from exc
    finally:
        conn.close()
    if response.status != 200:
        return FALLBACK_API_VERSION
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return FALLBACK_API_VERSION
    offered = {v.text for ns in root.iter("namespace") if ns.findtext("name") == "urn:vim25"
               for v in ns.iter("version")}
    for version in GetServiceVersions("vim25"):
        if versionIdMap.get(version) in offered:
            return version
    return FALLBACK_API_VERSION


class CountingStub(SoapStubAdapter):
    """pyVmomi's SOAP stub, counting the calls it makes per method (for provenance and benches)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: Counter[str] = Counter()

    def InvokeMethod(self, mo, info, args, outerStub=None):  # noqa: N802  (pyVmomi's name)
        """Count, then invoke the method as pyVmomi does."""
        self.calls[info.wsdlName] += 1
        return super().InvokeMethod(mo, info, args, outerStub)


class Session:
    """A logged-in vCenter session that can log in again when the server expires it.

    Attributes:
        content: the ``ServiceContent`` (about, propertyCollector, viewManager, ...).
        relogins: how many times the session was re-established.
    """

    def __init__(self, target: Target):
        self.target = target
        self.relogins = 0
        version = api_version(target)
        self.stub = CountingStub(
            host=target.server, port=target.port, version=version,
            sslContext=tls_context(target), connectionPoolTimeout=-1,
            httpConnectionTimeout=target.connect_timeout_s,
        )
        self.stub.scheme = _pinned_scheme(target)
        self.instance = vim.ServiceInstance("ServiceInstance", self.stub)
        self.content = self._call_transport(self.instance.RetrieveContent)
        self.login()

    @property
    def soap_calls(self) -> int:
        """SOAP calls made so far."""
        return sum(self.stub.calls.values())

    def _call_transport(self, fn, *args):
        try:
            return fn(*args)
        except AssessError:
            raise
        except ssl.SSLCertVerificationError as exc:
            raise AssessError(f"TLS certificate of {self.target.address} is not trusted: {exc}") from exc
        except TimeoutError as exc:
            raise self.target.timed_out() from exc
        except (OSError, HTTPException) as exc:
            raise AssessError(f"connection to {self.target.address} failed: {exc}") from exc

    def login(self) -> None:
        """Log in with the target's user and password; a refused login is one clear error."""
        try:
            self._call_transport(
                self.content.sessionManager.Login, self.target.user, self.target.password, None
            )
        except vim.fault.InvalidLogin as exc:
            raise AssessError(
                f"vCenter {self.target.address} refused the login of user '{self.target.user}' "
                f"(InvalidLogin): check {USER_ENV}/--user and {PASSWORD_ENV}/--password-file"
            ) from exc

    def relogin(self) -> None:
        """Log in again after the server reported the session gone (NotAuthenticated)."""
        self.stub.SetSessionId(None)
        self.relogins += 1
        if self.relogins > 10:
            raise AssessError(f"vCenter {self.target.address} keeps expiring the session; giving up")
        self.login()

    def call(self, fn, *args):
        """Call ``fn(*args)``; when the session has expired, log in again and call it once more."""
        try:
            return self._call_transport(fn, *args)
        except vim.fault.NotAuthenticated:
            self.relogin()
            return self._call_transport(fn, *args)

    def logout(self) -> None:
        """End the session (best effort: the server may already have ended it)."""
        try:
            self.content.sessionManager.Logout()
        except (vmodl.MethodFault, OSError, HTTPException, AssessError):
            pass


def _pinned_scheme(target: Target):
    def scheme(host, port, **kwargs):
        return PinnedHTTPSConnection(host, port, thumbprint=target.thumbprint,
                                     read_timeout=target.read_timeout_s, **kwargs)

    return scheme


def insecure_notice(target: Target) -> str:
    """What to tell the user, the summary and the report when TLS is not verified (empty if it is)."""
    if not target.insecure:
        return ""
    return (f"TLS verification is off for vCenter {target.address} (insecure): the data may not "
            "come from the vCenter named; pass --ca-file or --thumbprint instead")


def connect(target: Target) -> Session:
    """Return a logged-in :class:`Session` to ``target`` (AssessError on refusal, TLS failure, timeout).

    An insecure target is logged as a warning (stderr when logging is not configured).
    """
    if target.insecure:
        log.warning("warning: %s", insecure_notice(target))
    try:
        return Session(target)
    except TimeoutError as exc:
        raise target.timed_out() from exc
