"""An in-process vCenter double: HTTPS on loopback answering genuine vim25 SOAP.

Responses are real ``vim.*`` objects serialized by pyVmomi's own ``SoapAdapter``, so the
collector under test talks to it exactly as to vCenter. It models what the real server
does and vcsim does not: ``maxObjects`` paging with ``ContinueRetrievePropertiesEx``,
sessions that expire (``NotAuthenticated``; views and tokens die with them), historical
statistics intervals, ``maxQueryMetrics``, and objects deleted mid-collection.
"""

from __future__ import annotations

import ssl
import threading
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pyVmomi import SoapAdapter, vim, vmodl
from pyVmomi.VmomiSupport import GetWsdlType, GuessWsdlMethod, Object

VERSION = "vim.version.v8_0_3_0"
NS = {"soap": "http://schemas.xmlsoap.org/soap/envelope/", "vim": "urn:vim25"}
COOKIE = "vmware_soap_session"
PC = vmodl.query.PropertyCollector
COUNTER_NAMES = [
    ("cpu", "usagemhz", "average"), ("cpu", "usage", "average"), ("cpu", "ready", "summation"),
    ("mem", "consumed", "average"), ("mem", "active", "average"), ("disk", "usage", "average"),
    ("net", "usage", "average"), ("virtualDisk", "numberReadAveraged", "average"),
    ("virtualDisk", "numberWriteAveraged", "average"),
]
#: Values the double reports for VM number k (KB for memory, hundredths of % for cpu.usage).
SAMPLES = {
    "cpu.usagemhz.average": lambda k: 100 * k, "cpu.usage.average": lambda k: 2500,
    "cpu.ready.summation": lambda k: 40, "mem.consumed.average": lambda k: 1048576,
    "mem.active.average": lambda k: 262144, "disk.usage.average": lambda k: 12,
    "net.usage.average": lambda k: 8,
}
DISK_INSTANCES = {"scsi0:0": (5, 3), "scsi0:1": (7, 0)}  # (reads/s, writes/s) -> 15 IOPS in all


def _mo(kind, moref):
    return GetWsdlType("urn:vim25", kind)(moref)


class Inventory:
    """A small vCenter: one datacenter, one cluster of two hosts, a datastore, a network, N VMs."""

    def __init__(self, vms: int):
        self.uuid = "8b2c6f43-0a7e-4b63-9f3f-5b1a2d3c4e5f"
        self.objects: dict[str, tuple[str, dict]] = {}
        add = self.add
        add("group-d1", "Folder", name="Datacenters")
        add("datacenter-1", "Datacenter", name="DC1", parent=_mo("Folder", "group-d1"))
        add("group-v1", "Folder", name="vm", parent=_mo("Datacenter", "datacenter-1"))
        add("group-h1", "Folder", name="host", parent=_mo("Datacenter", "datacenter-1"))
        rule = vim.cluster.AntiAffinityRuleSpec(name="split-db", enabled=True, mandatory=False,
                                                vm=[_mo("VirtualMachine", f"vm-{k}") for k in (1, 2)])
        config = vim.cluster.ConfigInfoEx(
            dasConfig=vim.cluster.DasConfigInfo(enabled=True),
            drsConfig=vim.cluster.DrsConfigInfo(enabled=True, defaultVmBehavior="fullyAutomated"),
            dpmConfigInfo=vim.cluster.DpmConfigInfo(enabled=False), rule=[rule])
        add("domain-c1", "ClusterComputeResource", name="C1", parent=_mo("Folder", "group-h1"),
            configurationEx=config,
            summary=vim.ClusterComputeResource.Summary(overallStatus="green", numEffectiveHosts=2,
                                                       effectiveCpu=96000, effectiveMemory=512 * 1024,
                                                       numHosts=2, numCpuCores=32, totalCpu=96000,
                                                       totalMemory=2 * 256 * 1024**3))
        for h in (1, 2):
            add(f"host-{h}", "HostSystem", name=f"esx{h}.example.test",
                parent=_mo("ClusterComputeResource", "domain-c1"),
                **{"summary.hardware": vim.host.Summary.HardwareSummary(
                    cpuModel="Intel Xeon Gold 6230", cpuMhz=3000, numCpuPkgs=2, numCpuCores=16,
                    numCpuThreads=32, memorySize=256 * 1024**3, vendor="Dell", model="R640"),
                   "runtime.inMaintenanceMode": False})
        add("resgroup-1", "ResourcePool", name="Resources", parent=_mo("ClusterComputeResource", "domain-c1"))
        add("datastore-1", "Datastore", name="ds1", **{"summary.type": "VMFS", "summary.capacity": 1024**4,
                                                        "summary.freeSpace": 512 * 1024**3})
        add("network-1", "Network", name="VM Network")
        for k in range(1, vms + 1):
            add(f"vm-{k}", "VirtualMachine", **self.vm_props(k))

    def add(self, moref: str, kind: str, **props) -> None:
        self.objects[moref] = (kind, props)

    def vm_props(self, k: int) -> dict:
        disk = vim.vm.device.VirtualDisk(
            key=2000, controllerKey=1000, unitNumber=0, capacityInKB=40 * 1024 * 1024,
            deviceInfo=vim.Description(label="Hard disk 1", summary=""),
            backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
                fileName=f"[ds1] vm{k}/vm{k}.vmdk", datastore=_mo("Datastore", "datastore-1"),
                diskMode="persistent", thinProvisioned=True, sharing="sharingNone"))
        controller = vim.vm.device.ParaVirtualSCSIController(
            key=1000, busNumber=0, sharedBus="noSharing", device=[2000],
            deviceInfo=vim.Description(label="SCSI controller 0", summary=""))
        nic = vim.vm.device.VirtualVmxnet3(
            key=4000, macAddress=f"00:50:56:00:00:{k:02x}",
            deviceInfo=vim.Description(label="Network adapter 1", summary=""),
            backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName="VM Network"),
            connectable=vim.vm.device.VirtualDevice.ConnectInfo(connected=True, startConnected=True,
                                                                allowGuestControl=True))
        return {
            "name": f"app{k:03d}", "parent": _mo("Folder", "group-v1"),
            "resourcePool": _mo("ResourcePool", "resgroup-1"),
            "runtime.host": _mo("HostSystem", f"host-{1 + k % 2}"), "runtime.powerState": "poweredOn",
            "runtime.connectionState": "connected", "config.template": False,
            "config.instanceUuid": str(uuid.UUID(int=k)), "config.hardware.numCPU": 2 + k % 3,
            "config.hardware.memoryMB": 4096,
            "config.hardware.device": vim.vm.device.VirtualDevice.Array([controller, disk, nic]),
            "config.firmware": "efi", "config.version": "vmx-19", "config.guestId": "rhel9_64Guest",
            "summary.storage.committed": 10 * 1024**3, "summary.storage.uncommitted": 30 * 1024**3,
        }


class SoapDouble:
    """The HTTPS server and its state; ``calls`` counts SOAP methods served."""

    def __init__(self, cert: str, key: str, vms: int = 10, password: str = "secret",
                 max_query_metrics: int = 18):
        self.inventory = Inventory(vms)
        self.password = password
        self.max_query_metrics = max_query_metrics
        self.calls: Counter[str] = Counter()
        self.perf_formats: Counter[str] = Counter()  # QuerySpec.format asked for, per VM
        self.sessions: dict[str, dict] = {}  # id -> {"views": {...}, "tokens": {...}}
        self.expire_after: dict[str, int] = {}  # method -> expire all sessions on its n-th call
        self.delete_after: dict[str, tuple[int, str]] = {}  # method -> (n-th call, moref to delete)
        self.unknown_paths: set[str] = set()  # property paths this "older" server does not know
        self.lock = threading.Lock()
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.double = self
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SoapDouble:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- SOAP dispatch -------------------------------------------------------------------
    def handle(self, body: bytes, cookie: str | None) -> tuple[int, str, str | None]:
        envelope = ET.fromstring(body)
        call = envelope.find("soap:Body", NS)[0]
        method = call.tag.split("}")[1]
        with self.lock:
            self.calls[method] += 1
            n = self.calls[method]
            if self.delete_after.get(method, (0,))[0] == n:
                self.inventory.objects.pop(self.delete_after[method][1], None)
            if self.expire_after.get(method) == n:
                self.sessions.clear()
            session = self.sessions.get(cookie or "")
            new_cookie = None
            try:
                if method not in ("RetrieveServiceContent", "Login") and session is None:
                    raise vim.fault.NotAuthenticated(msg="The session is not authenticated.")
                if method == "Login":
                    session, new_cookie = self.login(call)
                result = getattr(self, method)(call, session)
            except vmodl.MethodFault as fault:
                return 500, _fault(fault), new_cookie
        info = _method_info(method)
        return 200, _response(method, result, info), new_cookie

    def login(self, call):
        user = call.findtext("vim:userName", namespaces=NS)
        password = call.findtext("vim:password", namespaces=NS)
        if password != self.password:
            raise vim.fault.InvalidLogin(
                msg="Cannot complete login due to an incorrect user name or password.")
        sid = uuid.uuid4().hex
        self.sessions[sid] = {"views": {}, "tokens": {}, "user": user}
        return self.sessions[sid], sid

    def RetrieveServiceContent(self, call, session):  # noqa: N802
        return vim.ServiceInstanceContent(
            rootFolder=_mo("Folder", "group-d1"),
            propertyCollector=vmodl.query.PropertyCollector("propertyCollector"),
            viewManager=vim.view.ViewManager("ViewManager"),
            sessionManager=vim.SessionManager("SessionManager"),
            perfManager=vim.PerformanceManager("PerfMgr"), setting=vim.option.OptionManager("VpxSettings"),
            customFieldsManager=vim.CustomFieldsManager("CustomFieldsManager"),
            about=vim.AboutInfo(name="VMware vCenter Server", fullName="VMware vCenter Server 8.0.3 (double)",
                                vendor="VMware, Inc.", version="8.0.3", build="1", osType="linux-x64",
                                apiType="VirtualCenter", apiVersion="8.0.3.0",
                                instanceUuid=self.inventory.uuid,
                                productLineId="vpx"))

    def Login(self, call, session):  # noqa: N802
        return vim.UserSession(key="s", userName=session["user"], fullName="", loginTime=self.now,
                               lastActiveTime=self.now, locale="en", messageLocale="en",
                               extensionSession=False, ipAddress="127.0.0.1", userAgent="", callCount=0)

    def Logout(self, call, session):  # noqa: N802
        self.sessions = {k: v for k, v in self.sessions.items() if v is not session}

    def CreateContainerView(self, call, session):  # noqa: N802
        kinds = [GetWsdlType("urn:vim25", t.text) for t in call.findall("vim:type", NS)]
        ref = f"session[{id(session)}]view-{len(session['views']) + 1}"
        session["views"][ref] = kinds
        return vim.view.ContainerView(ref)

    def DestroyView(self, call, session):  # noqa: N802
        session["views"].pop(call.findtext("vim:_this", namespaces=NS), None)

    def RetrievePropertiesEx(self, call, session):  # noqa: N802
        spec = call.find("vim:specSet", NS)
        paths = {GetWsdlType("urn:vim25", p.findtext("vim:type", namespaces=NS)):
                 [x.text for x in p.findall("vim:pathSet", NS)] for p in spec.findall("vim:propSet", NS)}
        for path in sorted(self.unknown_paths & {p for ps in paths.values() for p in ps}):
            raise vmodl.query.InvalidProperty(name=path)
        obj = spec.find("vim:objectSet/vim:obj", NS)
        if obj.get("type") == "ContainerView":
            kinds = session["views"].get(obj.text)
            if kinds is None:
                raise vmodl.fault.ManagedObjectNotFound(obj=vim.view.ContainerView(obj.text))
            morefs = [m for m, (k, _) in self.inventory.objects.items()
                      if issubclass(GetWsdlType("urn:vim25", k), tuple(kinds))]
        else:
            morefs = [obj.text]
        size = int(call.findtext("vim:options/vim:maxObjects", default="0", namespaces=NS) or 0)
        size = size or len(morefs)
        return self.page(session, morefs, paths, size)

    def ContinueRetrievePropertiesEx(self, call, session):  # noqa: N802
        token = call.findtext("vim:token", namespaces=NS)
        if token not in session["tokens"]:
            raise vmodl.fault.InvalidArgument(invalidProperty="token")
        morefs, paths, size = session["tokens"].pop(token)
        return self.page(session, morefs, paths, size)

    def page(self, session, morefs, paths, size):
        objects = [self.content(m, paths) for m in morefs[:size]]
        rest = morefs[size:]
        token = None
        if rest:
            token = uuid.uuid4().hex
            session["tokens"][token] = (rest, paths, size)
        return PC.RetrieveResult(objects=objects, token=token)

    def content(self, moref, paths):
        found = self.inventory.objects.get(moref)
        if moref == "PerfMgr":
            found = "PerformanceManager", self.perf_props()
        elif moref == "CustomFieldsManager":
            found = "CustomFieldsManager", {}
        if found is None:  # deleted after the result set was fixed: every path faults
            ref = _mo("VirtualMachine", moref)
            wanted = [p for t, ps in paths.items() if isinstance(ref, t) for p in ps]
            return PC.ObjectContent(obj=ref, missingSet=[
                PC.MissingProperty(path=p, fault=vmodl.fault.ManagedObjectNotFound(obj=ref)) for p in wanted])
        kind, props = found
        ref = _mo(kind, moref)
        wanted = [p for t, ps in paths.items() if isinstance(ref, t) for p in ps]
        return PC.ObjectContent(obj=ref, propSet=[vmodl.DynamicProperty(name=p, val=props[p])
                                                  for p in wanted if props.get(p) is not None])

    # --- performance -----------------------------------------------------------------
    def perf_props(self) -> dict:
        counters = [vim.PerformanceManager.CounterInfo(
            key=100 + i, nameInfo=vim.ElementDescription(key=n, label=n, summary=n),
            groupInfo=vim.ElementDescription(key=g, label=g, summary=g),
            unitInfo=vim.ElementDescription(key="num", label="", summary=""), rollupType=r, statsType="rate")
            for i, (g, n, r) in enumerate(COUNTER_NAMES)]
        intervals = [vim.HistoricalInterval(key=i + 1, samplingPeriod=p, name=name, length=length, level=1,
                                            enabled=True)
                     for i, (p, length, name) in enumerate([
                         (300, 86400, "Past day"), (1800, 604800, "Past week"),
                         (7200, 2592000, "Past month"), (86400, 31536000, "Past year")])]
        return {"perfCounter": vim.PerformanceManager.CounterInfo.Array(counters),
                "historicalInterval": vim.HistoricalInterval.Array(intervals)}

    def QueryOptions(self, call, session):  # noqa: N802
        key = "config.vpxd.stats.maxQueryMetrics"
        return [vim.option.OptionValue(key=key, value=str(self.max_query_metrics))]

    def QueryPerf(self, call, session):  # noqa: N802
        names = {100 + i: ".".join(c) for i, c in enumerate(COUNTER_NAMES)}
        out = []
        for spec in call.findall("vim:querySpec", NS):
            moref = spec.findtext("vim:entity", namespaces=NS)
            if moref not in self.inventory.objects:
                raise vmodl.fault.ManagedObjectNotFound(obj=_mo("VirtualMachine", moref), msg="deleted")
            period = int(spec.findtext("vim:intervalId", namespaces=NS))
            stamps = [self.now - timedelta(seconds=period * i) for i in range(3, 0, -1)]
            k = int(moref.split("-")[1])
            series = []
            for metric in spec.findall("vim:metricId", NS):
                cid = int(metric.findtext("vim:counterId", namespaces=NS))
                name = names[cid]
                if name.startswith("virtualDisk"):
                    col = 0 if "Read" in name else 1
                    series += [vim.PerformanceManager.IntSeries(
                        id=vim.PerformanceManager.MetricId(counterId=cid, instance=inst), value=[v[col]] * 3)
                        for inst, v in DISK_INSTANCES.items()]
                else:
                    series.append(vim.PerformanceManager.IntSeries(
                        id=vim.PerformanceManager.MetricId(counterId=cid, instance=""),
                        value=[SAMPLES[name](k)] * 3))
            ref = _mo("VirtualMachine", moref)
            self.perf_formats[spec.findtext("vim:format", namespaces=NS)] += 1
            if spec.findtext("vim:format", namespaces=NS) == "csv":  # what real vCenter sends
                info = ",".join(f"{period},{t.strftime('%Y-%m-%dT%H:%M:%SZ')}" for t in stamps)
                out.append(vim.PerformanceManager.EntityMetricCSV(entity=ref, sampleInfoCSV=info, value=[
                    vim.PerformanceManager.MetricSeriesCSV(id=x.id, value=",".join(map(str, x.value)))
                    for x in series]))
            else:
                out.append(vim.PerformanceManager.EntityMetric(
                    entity=ref, value=series,
                    sampleInfo=[vim.PerformanceManager.SampleInfo(timestamp=t, interval=period)
                                for t in stamps]))
        return out


def _method_info(method: str):
    return GuessWsdlMethod(method).info


def _ns_map() -> dict:
    ns = SoapAdapter.SOAP_NSMAP.copy()
    ns["urn:vim25"] = ""
    return ns


def _response(method: str, result, info) -> str:
    body = ""
    if result is not None:
        body = SoapAdapter.SerializeToStr(result, Object(name="returnval", type=info.result, version=VERSION,
                                                         flags=0), VERSION, _ns_map())
    return (f"{SoapAdapter.XML_HEADER}\n{SoapAdapter.SOAP_START}<{method}Response xmlns=\"urn:vim25\">"
            f"{body}</{method}Response>{SoapAdapter.SOAP_END}")


def _fault(fault) -> str:
    info = Object(name=f"{type(fault)._wsdlName}Fault", type=object, version=VERSION, flags=0)
    detail = SoapAdapter.SerializeFaultDetail(fault, info, VERSION, SoapAdapter.SOAP_NSMAP.copy())
    message = SoapAdapter.XmlEscape(fault.msg or type(fault).__name__)
    return (f"{SoapAdapter.XML_HEADER}\n{SoapAdapter.SOAP_START}<{SoapAdapter.SOAP_FAULT_TAG}>"
            f"<faultcode>ServerFaultCode</faultcode><faultstring>{message}</faultstring>"
            f"<detail>{detail}</detail></{SoapAdapter.SOAP_FAULT_TAG}>{SoapAdapter.SOAP_END}")


VERSIONS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<namespaces version="1.0"><namespace><name>urn:vim25</name><version>8.0.3.0</version>
<priorVersions><version>8.0.2.0</version><version>7.0.3.0</version><version>6.7</version></priorVersions>
</namespace></namespaces>"""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in separate writes

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status: int, body: str, content_type: str, cookie: str | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if cookie:
            self.send_header("Set-Cookie", f'{COOKIE}="{cookie}"; Path=/; HttpOnly; Secure;')
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        if self.path == "/sdk/vimServiceVersions.xml":
            self._send(200, VERSIONS_XML, "text/xml")
        else:
            self._send(404, "not found", "text/plain")

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not self.path.startswith("/sdk"):
            self._send(404, "not found", "text/plain")  # no vSphere Automation API here
            return
        cookie = None
        for part in (self.headers.get("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE:
                cookie = value.strip('"')
        status, text, new_cookie = self.server.double.handle(body, cookie)
        self._send(status, text, "text/xml; charset=utf-8", new_cookie)
