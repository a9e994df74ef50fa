"""Live vCenter collector: inventory, tags and utilization history into the canonical estate.

``collect_vcenter`` is the one entry point; the CLI (``assess collect vcenter``) and
notebooks call it. See :mod:`.connection` for credentials and TLS, :mod:`.properties` for
the paged PropertyCollector reads, :mod:`.perf` for QueryPerf and :mod:`.tags` for tagging.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import pandas as pd
from pyVmomi import vim, vmodl

from assess.collect.vcenter.connection import (
    CONNECT_TIMEOUT_S,
    PASSWORD_ENV,
    READ_TIMEOUT_S,
    Session,
    Target,
    connect,
    insecure_notice,
    read_password,
    split_server,
)
from assess.collect.vcenter.infra import (
    affinity_rows,
    cluster_rows,
    datastore_rows,
    host_rows,
    network_rows,
)
from assess.collect.vcenter.inventory import PATHS, Inventory, custom_attribute_rows, vm_tables
from assess.collect.vcenter.perf import query_utilization
from assess.collect.vcenter.properties import ObjectProps, object_properties, retrieve_properties
from assess.collect.vcenter.tags import TaggingUnavailable, vm_tags
from assess.model.errors import AssessError
from assess.model.estate import Estate

__all__ = ["Target", "collect_vcenter", "read_password", "split_server", "target_from"]

#: progress(stage, done, total): stage is "inventory", "tags" or "utilization"; total may be None.
Progress = Callable[[str, int, int | None], None]


def collect_vcenter(
    target: Target,
    *,
    lookback_days: float = 30,
    page_size: int = 500,
    utilization: bool = True,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> Estate:
    """Collect a vCenter's inventory, tags and utilization history into a new :class:`Estate`.

    VM keys are ``'<vCenter instanceUuid>/<moref>'`` so that an RVTools import of the same
    vCenter merges by key. Deleted objects, a missing tagging service or missing
    performance data become warnings; the rest is still collected. A refused login or
    an untrusted certificate raises :class:`AssessError`.
    """
    report = progress or (lambda stage, done, total: None)
    session = connect(target)
    try:
        return _collect(session, target, lookback_days, page_size, utilization, report,
                        now or datetime.now(UTC))
    finally:
        session.logout()


def _collect(session: Session, target: Target, lookback_days: float, page_size: int,
             utilization: bool, report: Progress, now: datetime) -> Estate:
    about = session.content.about
    vc_uuid = about.instanceUuid or target.server
    estate = Estate()
    source = estate.add_source(
        "vcenter", server=target.server, tool="pyvmomi", tool_version=version("pyvmomi"),
        vcenter_uuid=vc_uuid, product=about.fullName, api_version=about.apiVersion,
    )
    warnings: list[dict] = []

    def warn(code: str, message: str, table: str = "", row: str = "") -> None:
        warnings.append(dict(source=source, code=code, message=message, table=table, row=row, column=""))

    if target.insecure:
        warn("vcenter.tls.insecure", insecure_notice(target))
        estate.provenance[-1]["tls"] = "not verified (insecure)"

    records, pages, dropped = retrieve_properties(session, PATHS, page_size,
                                                  lambda n: report("inventory", n, None))
    for path in dropped:
        warn("vcenter.property.unsupported",
             f"this vCenter (API {about.apiVersion}) does not know property '{path}'; "
             "the column it feeds is left empty", table="vms")
    _warn_faults(records, vc_uuid, warn)
    inv = Inventory(records)
    tables = vm_tables(inv, vc_uuid, target.server, source)
    tables["hosts"] = host_rows(inv, vc_uuid, target.server, source)
    tables["clusters"] = cluster_rows(inv, vc_uuid, target.server, source)
    tables["affinity_rules"] = affinity_rows(inv, vc_uuid, target.server)
    tables["datastores"] = datastore_rows(inv, vc_uuid, target.server, source)
    tables["networks"] = network_rows(inv, vc_uuid, target.server, source)
    tables["attributes"] = custom_attribute_rows(inv, vc_uuid, _custom_fields(session))
    vm_ids = {row["moref"]: row["vm_id"] for row in tables["vms"]}

    rest_calls = 0
    try:
        tag_rows, rest_calls = vm_tags(target, vm_ids)
        tables["attributes"] += tag_rows
        report("tags", len(tag_rows), len(tag_rows))
    except TaggingUnavailable as exc:
        warn("vcenter.tags.unavailable", f"vSphere tags not collected: {exc}; inventory kept",
             table="attributes")

    perf_info: dict = {}
    if utilization:
        perf_info = _utilization(session, tables, vm_ids, lookback_days, now, report, warn)
    for name, rows in tables.items():
        if rows:
            estate[name] = pd.DataFrame.from_records(rows)
    estate.warn_many(warnings)
    estate.provenance[-1].update(
        soap_calls=session.soap_calls, soap_calls_by_method=dict(session.stub.calls),
        rest_calls=rest_calls, pages=pages, page_size=page_size, relogins=session.relogins,
        performance=perf_info,
    )
    return estate


def _warn_faults(records: list[ObjectProps], vc_uuid: str, warn) -> None:
    for r in records:
        if not r.faults:
            continue
        codes = set(r.faults.values())
        if "ManagedObjectNotFound" in codes:
            warn("vcenter.object.deleted",
                 f"{r.kind.split('.')[-1]} {vc_uuid}/{r.moref} was deleted during collection; "
                 "it is left out, everything else was collected", row=f"{vc_uuid}/{r.moref}")
        else:
            warn("vcenter.property.unreadable",
                 f"{r.kind.split('.')[-1]} {vc_uuid}/{r.moref}: properties "
                 f"{', '.join(sorted(r.faults))} not readable ({', '.join(sorted(codes))}); "
                 "check the collecting user's read-only role covers this object",
                 row=f"{vc_uuid}/{r.moref}")


def _custom_fields(session: Session) -> dict[int, str]:
    manager = session.content.customFieldsManager
    if manager is None:
        return {}
    fields = object_properties(session, manager, ["field"]).get("field") or []
    return {f.key: f.name for f in fields}


def _utilization(session: Session, tables: dict, vm_ids: dict[str, str], lookback_days: float,
                 now: datetime, report: Progress, warn) -> dict:
    wanted = [(row["vm_id"], vim.VirtualMachine(row["moref"], session.stub)) for row in tables["vms"]
              if not row["template"] and row["connection_state"] in (None, "connected")]
    total = len(wanted)
    done = 0

    def on_batch(n: int) -> None:
        nonlocal done
        done += n
        report("utilization", done, total)

    try:
        result = query_utilization(session, wanted, timedelta(days=lookback_days), now, on_batch)
    except vmodl.MethodFault as exc:
        warn("vcenter.perf.failed", f"performance data not collected ({type(exc).__name__}: "
             f"{getattr(exc, 'msg', '') or exc}); inventory kept", table="utilization")
        return {}
    for code, message in result.warnings:
        warn(code, message, table="utilization")
    tables["utilization"] = result.rows
    with_data = len({r["vm_id"] for r in result.rows})
    if total and with_data < total:
        warn("vcenter.perf.no_samples",
             f"{total - with_data} of {total} VMs returned no utilization samples for the interval "
             "(powered off, new, or statistics level too low)", table="utilization")
    return dict(result.info, query_perf_calls=result.calls, vms_queried=total, vms_with_samples=with_data)


def target_from(server: str, user: str, password_file: Path | None = None, ca_file: Path | None = None,
                thumbprint: str | None = None, insecure: bool = False,
                password_env: str = PASSWORD_ENV, connect_timeout_s: float = CONNECT_TIMEOUT_S,
                read_timeout_s: float = READ_TIMEOUT_S) -> Target:
    """Build a :class:`Target` from CLI-style inputs (password from the env variable or a file only)."""
    host, port = split_server(server)
    for name, value in (("connect timeout", connect_timeout_s), ("read timeout", read_timeout_s)):
        if not value > 0:
            raise AssessError(f"{name} must be a positive number of seconds, not {value}")
    return Target(host, user, read_password(password_file, password_env), port=port, ca_file=ca_file,
                  thumbprint=thumbprint, insecure=insecure, connect_timeout_s=connect_timeout_s,
                  read_timeout_s=read_timeout_s)
