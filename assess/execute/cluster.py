"""The connection to the cluster: configuration, the resources we touch, and calls that survive faults.

Configuration comes in a fixed order: an explicit kubeconfig path, then ``KUBECONFIG``, then the
in-cluster service account, then ``~/.kube/config``. Every call goes through :meth:`Cluster.call`,
which retries 429 and 5xx answers and dropped connections with exponential backoff (honouring
``Retry-After``), and re-reads the configuration once on 401 (a rotated or expired token).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from assess.execute.params import ExecuteParams
from assess.model import AssessError

T = TypeVar("T")
RETRIABLE = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Resource:
    """A custom resource the executor reads or writes."""

    group: str
    version: str
    plural: str

    @property
    def api_version(self) -> str:
        """``group/version`` as in an object's ``apiVersion``."""
        return f"{self.group}/{self.version}"


RESOURCES: dict[str, Resource] = {
    "Provider": Resource("forklift.konveyor.io", "v1beta1", "providers"),
    "NetworkMap": Resource("forklift.konveyor.io", "v1beta1", "networkmaps"),
    "StorageMap": Resource("forklift.konveyor.io", "v1beta1", "storagemaps"),
    "Plan": Resource("forklift.konveyor.io", "v1beta1", "plans"),
    "Migration": Resource("forklift.konveyor.io", "v1beta1", "migrations"),
    "VirtualMachine": Resource("kubevirt.io", "v1", "virtualmachines"),
    "VirtualMachineInstance": Resource("kubevirt.io", "v1", "virtualmachineinstances"),
    "DataVolume": Resource("cdi.kubevirt.io", "v1beta1", "datavolumes"),
    "NetworkAttachmentDefinition": Resource("k8s.cni.cncf.io", "v1", "network-attachment-definitions"),
}


def resource_of(kind: str) -> Resource:
    """The :class:`Resource` of ``kind``; AssessError for a kind the executor does not handle."""
    try:
        return RESOURCES[kind]
    except KeyError:
        raise AssessError(f"kind {kind!r} is not one the executor applies") from None


def api_error_message(exc: ApiException) -> str:
    """The server's own words for a failed call: its Status message and the fields it names."""
    try:
        status = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        status = {}
    message = status.get("message") or exc.reason or "no message"
    causes = (status.get("details") or {}).get("causes") or []
    fields = [f"{c.get('field', '?')}: {c.get('message', '')}".strip() for c in causes]
    text = f"HTTP {exc.status} {status.get('reason') or exc.reason or ''}: {message}".replace("  ", " ")
    return text + (f" [{'; '.join(fields)}]" if fields else "")


def rejected_apply(exc: ApiException) -> bool:
    """A server-side apply the server cannot type against the schema (it answers 500 for that).

    kube-apiserver reports a field of the wrong type in an apply patch as 500 "failed to create
    typed patch object"; retrying cannot help, so it is a rejection like a 422.
    """
    return exc.status == 500 and "failed to create typed patch object" in str(exc.body or "")


def _configuration(params: ExecuteParams) -> client.Configuration:
    """A fresh client Configuration from the first source that exists (see module docstring)."""
    cfg = client.Configuration()
    path = params.kubeconfig or os.environ.get("KUBECONFIG")
    try:
        if path:
            first = path.split(os.pathsep)[0]
            if not Path(first).is_file():
                raise AssessError(f"{first}: kubeconfig not found (from --kubeconfig or KUBECONFIG)")
            config.load_kube_config(config_file=first, context=params.context, client_configuration=cfg)
        elif os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config(client_configuration=cfg)
        else:
            config.load_kube_config(context=params.context, client_configuration=cfg)
    except config.ConfigException as exc:
        raise AssessError(f"cannot configure the cluster connection: {exc}") from exc
    cfg.retries = 0  # Cluster.call retries, with backoff and a message; urllib3 would retry silently
    return cfg


def cluster_configured(params: ExecuteParams) -> bool:
    """Whether any cluster connection is configured (explicit, KUBECONFIG, in-cluster, ~/.kube/config)."""
    return bool(
        params.kubeconfig
        or os.environ.get("KUBECONFIG")
        or os.environ.get("KUBERNETES_SERVICE_HOST")
        or Path(config.kube_config.KUBE_CONFIG_DEFAULT_LOCATION).expanduser().is_file()
    )


class Cluster:
    """A connection to one cluster, with the retrying :meth:`call` every API request goes through.

    ``requests`` counts the HTTP requests made (for the bench); ``sleep`` is injectable for tests.
    """

    def __init__(self, params: ExecuteParams, sleep: Callable[[float], None] = time.sleep):
        self.params = params
        self.sleep = sleep
        self.requests = 0
        self._connect()

    def _connect(self) -> None:
        self.configuration = _configuration(self.params)
        self.api_client = client.ApiClient(self.configuration)
        self.custom = client.CustomObjectsApi(self.api_client)

    @property
    def host(self) -> str:
        """The API server URL."""
        return self.configuration.host

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) timeout of one request."""
        return (self.params.connect_timeout_s, self.params.request_timeout_s)

    def first_contact(self, say: Callable[[str], None] | None = None) -> str:
        """Reach the API server once (``GET /version``) before anything else; its version.

        ``say`` gets one line naming the server and the timeout before the wait. Unreachable
        or refusing TLS: AssessError at once, naming the server and the cause (no retries:
        a wrong address does not become right by waiting).
        """
        if say:
            say(f"connecting to {self.host} (timeout {self.params.connect_timeout_s:g} s) ...")
        try:
            version = self.call_once(self.read_path, "/version")
        except ApiException as exc:
            if exc.status in (401, 403):
                return "unknown (version hidden from this user)"
            raise AssessError(f"{self.host}: {api_error_message(exc)}") from exc
        return str(version.get("gitVersion", "unknown"))

    def call_once(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """``fn`` once with the timeouts; a connection problem is an AssessError naming the server."""
        self.requests += 1
        try:
            return fn(*args, _request_timeout=self.timeout, **kwargs)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise AssessError(
                f"{self.host}: cluster unreachable ({reason}); check the address and --kubeconfig/--context"
            ) from exc

    def call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """``fn(*args, **kwargs)`` with retries on 429/5xx/connection errors and a re-login on 401.

        ``fn`` is looked up by name on the current API object after a re-login, so pass a
        bound method of :attr:`custom` or of this object (:meth:`read_path`).
        """
        delay = self.params.backoff_s
        relogged = False
        kwargs.setdefault("_request_timeout", self.timeout)
        for attempt in range(self.params.retries + 1):
            self.requests += 1
            try:
                return fn(*args, **kwargs)
            except ApiException as exc:
                if exc.status == 401 and not relogged:
                    relogged = True
                    fn = self._rebind(fn)
                    continue
                if exc.status == 401:
                    raise AssessError(
                        f"{self.host}: credentials rejected even after re-reading the kubeconfig "
                        f"({api_error_message(exc)}); renew the token"
                    ) from exc
                if exc.status not in RETRIABLE or attempt == self.params.retries or rejected_apply(exc):
                    raise
                asked = _retry_after(exc)
                wait = delay if asked is None else asked
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if attempt == self.params.retries:
                    raise AssessError(f"{self.host}: cluster unreachable ({exc})") from exc
                wait = delay
            self.sleep(min(wait, 30.0))
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")  # pragma: no cover

    def _rebind(self, fn: Callable[..., T]) -> Callable[..., T]:
        owner = getattr(fn, "__self__", None)
        self._connect()
        if isinstance(owner, client.CustomObjectsApi):
            return getattr(self.custom, fn.__name__)
        return fn

    def read_path(self, path: str, _request_timeout=None) -> dict:
        """GET a built-in object or list by API path (``/api/v1/nodes``) as plain JSON.

        Built-in kinds are read as JSON rather than through the typed ``CoreV1Api``, whose
        import alone costs seconds; the request and its authentication are the client's own.
        """
        params = self.api_client.param_serialize(
            method="GET",
            resource_path=path,
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        response = self.api_client.call_api(*params, _request_timeout=_request_timeout)
        response.read()
        return self.api_client.response_deserialize(response, {"200": "object"}).data


def _retry_after(exc: ApiException) -> float | None:
    value = (exc.headers or {}).get("Retry-After") if exc.headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
