"""What each VM of a wave is doing, read from the objects the controllers update.

Forklift: ``Migration.status.vms[]`` (matched by ``id`` = moref): ``phase``, the ``pipeline[]``
steps with ``progress {completed, total}``, ``error {phase, reasons}`` and the VM conditions
``Succeeded``/``Failed``/``Canceled``. KubeVirt: the DataVolumes of the VM (``status.phase``,
``status.progress`` like ``"45.10%"``). Both: the VirtualMachineInstance ``status.phase`` and
its ``AgentConnected`` condition for the post-checks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

FINAL = ("succeeded", "failed", "canceled")


@dataclass
class VmTrack:
    """One VM of a wave: transfer state, post-check state, and the final outcome."""

    vm_id: str
    name: str
    moref: str
    target_name: str
    wave: int
    expects_running: bool = True
    expects_agent: bool = False
    transfer: str = "pending"  # pending, running, succeeded, failed, canceled
    step: str = ""
    progress: float = 0.0
    error: str = ""
    vmi_phase: str = ""
    agent: bool = False
    started: bool = False
    disks: dict[str, tuple[str, float]] = field(default_factory=dict)

    @property
    def post_check_ok(self) -> bool:
        """VMI Running (where the source ran) and guest agent connected (where it had tools)."""
        if not self.expects_running:
            return True
        return self.vmi_phase == "Running" and (self.agent or not self.expects_agent)

    @property
    def outcome(self) -> str:
        """``succeeded`` (transfer and post-checks), ``failed``, ``canceled``, or ``running``/``pending``."""
        if self.transfer in ("failed", "canceled"):
            return self.transfer
        if self.transfer == "succeeded":
            return "succeeded" if self.post_check_ok else "verifying"
        return self.transfer

    def as_dict(self) -> dict:
        """Plain dict for summaries (without per-disk detail)."""
        out = asdict(self)
        out.pop("disks")
        out["outcome"] = self.outcome
        return out


def _condition(conditions: list | None, kind: str) -> bool:
    return any(c.get("type") == kind and str(c.get("status")) == "True" for c in conditions or [])


def update_from_forklift(tracks: dict[str, VmTrack], migration: dict) -> list[VmTrack]:
    """Apply one Migration's ``status.vms`` to the tracks keyed by moref; the tracks that changed."""
    changed = []
    for status in (migration.get("status") or {}).get("vms") or []:
        track = tracks.get(status.get("id"))
        if track is None or track.transfer in FINAL:
            continue
        before = (track.transfer, track.step, round(track.progress, 3))
        conditions = status.get("conditions")
        pipeline = status.get("pipeline") or []
        done = sum(s.get("progress", {}).get("completed", 0) for s in pipeline)
        total = sum(s.get("progress", {}).get("total", 0) for s in pipeline)
        track.progress = done / total if total else 0.0
        running = [s["name"] for s in pipeline if s.get("phase") == "Running"]
        track.step = running[0] if running else status.get("phase", "")
        error = status.get("error")
        if error:
            track.error = f"{error.get('phase')}: {'; '.join(error.get('reasons') or [])}"
        if _condition(conditions, "Canceled"):
            track.transfer = "canceled"
        elif _condition(conditions, "Failed"):
            track.transfer = "failed"
        elif _condition(conditions, "Succeeded"):
            track.transfer = "succeeded"
            track.progress = 1.0
        elif status.get("started"):
            track.transfer = "running"
        if (track.transfer, track.step, round(track.progress, 3)) != before:
            changed.append(track)
    return changed


def _percent(text) -> float:
    try:
        return float(str(text).rstrip("%")) / 100.0
    except ValueError:
        return 0.0


def update_from_datavolume(
    tracks_by_target: dict[str, VmTrack], dv: dict, deleted: bool = False
) -> VmTrack | None:
    """Apply one DataVolume (owned by the VM, named ``<target>-diskN``) to its VM's track."""
    owners = [
        o.get("name")
        for o in dv["metadata"].get("ownerReferences") or []
        if o.get("kind") == "VirtualMachine"
    ]
    name = dv["metadata"]["name"]
    target = owners[0] if owners else name.rsplit("-disk", 1)[0]
    track = tracks_by_target.get(target)
    if track is None or track.transfer in FINAL or deleted:
        return None
    status = dv.get("status") or {}
    phase = status.get("phase", "Pending")
    track.disks[name] = (phase, 1.0 if phase == "Succeeded" else _percent(status.get("progress", "0%")))
    track.progress = sum(p for _, p in track.disks.values()) / max(len(track.disks), 1)
    track.step = f"DataVolume {phase}"
    if phase == "Failed":
        track.transfer = "failed"
        messages = [c.get("message", "") for c in status.get("conditions") or [] if c.get("message")]
        track.error = f"DataVolume {name}: {messages[-1] if messages else 'import failed'}"
    elif track.disks and all(p == "Succeeded" for p, _ in track.disks.values()):
        track.transfer = "succeeded"
    else:
        track.transfer = "running"
    return track


def update_from_vmi(tracks_by_target: dict[str, VmTrack], vmi: dict, deleted: bool = False) -> VmTrack | None:
    """Apply one VirtualMachineInstance to its VM's post-check state."""
    track = tracks_by_target.get(vmi["metadata"]["name"])
    if track is None:
        return None
    status = vmi.get("status") or {}
    track.vmi_phase = "" if deleted else status.get("phase", "")
    track.agent = not deleted and _condition(status.get("conditions"), "AgentConnected")
    return track
