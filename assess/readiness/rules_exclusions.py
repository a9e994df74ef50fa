"""Exclusion rules: templates, SRM placeholders, orphaned or inaccessible VMs, VMs off for long."""

from __future__ import annotations

import pandas as pd

from assess.readiness.base import Context, declare, declared, from_mask, text, truthy

BROKEN_STATES = {"orphaned", "inaccessible", "invalid"}
_STRATEGY_NOTE = "Excluded from migration: it is not assessed as a workload."


@declare("vmware.vm.template", "Information", "Template",
         _STRATEGY_NOTE,
         "Rebuild it as a KubeVirt golden image (DataSource) if the image is still needed.",
         ("vms.template",), excludes=True)
def template(ctx: Context) -> pd.DataFrame:
    """Templates."""
    return from_mask(truthy(ctx.vm_column("template")), "template")


@declare("vmware.vm.srm_placeholder", "Information", "SRM placeholder",
         _STRATEGY_NOTE + " A placeholder stands for a VM protected at another site.",
         "Migrate the protected VM at its primary site instead.",
         ("vms.srm_placeholder",), excludes=True)
def srm_placeholder(ctx: Context) -> pd.DataFrame:
    """Site Recovery Manager placeholder VMs."""
    return from_mask(truthy(ctx.vm_column("srm_placeholder")), "SRM placeholder")


@declare("vmware.vm.inaccessible", "Information", "Orphaned or inaccessible VM",
         _STRATEGY_NOTE + " vCenter cannot read its files, so nothing can be copied.",
         "Re-register or remove the VM in vCenter, then re-run the assessment.",
         ("vms.connection_state",), excludes=True)
def inaccessible(ctx: Context) -> pd.DataFrame:
    """VMs vCenter reports as orphaned, inaccessible or invalid."""
    state = text(ctx.vm_column("connection_state"))
    return from_mask(state.str.lower().isin(BROKEN_STATES), "connection state " + state)


@declare("vmware.vm.powered_off_long", "Information", "Powered off for long",
         _STRATEGY_NOTE + " A VM unused for months is a candidate to retire.",
         "Confirm with the owner; archive the disks and retire it, or power it on to include it.",
         ("vms.power_state", "vms.powered_on_at"), excludes=True)
def powered_off_long(ctx: Context) -> pd.DataFrame:
    """VMs powered off whose last power-on is older than ``powered_off_days``.

    Only the last power-on time counts: the creation date says nothing about when a VM was
    switched off, so a powered-off VM without a power-on time stays in the assessment.
    """
    off = text(ctx.vm_column("power_state")).str.lower() == "poweredoff"
    since = ctx.vm_column("powered_on_at")
    days = (ctx.as_of - since).dt.days
    long = off & (days > ctx.params.powered_off_days).fillna(False).astype(bool)
    detail = ("powered off; last powered on " + since.dt.strftime("%Y-%m-%d").fillna("") + " ("
              + days.astype("Int64").astype(str) + " days before " + ctx.as_of.strftime("%Y-%m-%d") + ")")
    return from_mask(long, detail)




RULES = declared(globals())
