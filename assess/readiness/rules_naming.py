"""Naming rule: VMs renamed on KubeVirt (see :mod:`assess.readiness.naming` for the target name)."""

from __future__ import annotations

import pandas as pd

from assess.readiness.base import Context, declare, declared, from_mask


@declare("vmware.name.invalid", "Warning", "VM name is not a DNS-1123 label",
         "KubeVirt VM names must be DNS-1123 labels (lower case letters, digits and '-', at most 63 "
         "characters, unique in the namespace); the VM is renamed during migration.",
         "Accept the target name shown, or rename the VM in vSphere before migrating.",
         ("vms.name",))
def invalid_name(ctx: Context) -> pd.DataFrame:
    """VMs whose name is not the DNS-1123 label they will get."""
    names = ctx.vm_column("name")
    target = ctx.target_names
    return from_mask(names != target, "will be named '" + target + "'")


RULES = declared(globals())
