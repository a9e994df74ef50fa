"""Read many objects' properties in few round trips: one ContainerView, explicit paths, paged.

``RetrievePropertiesEx`` then ``ContinueRetrievePropertiesEx`` until no token is left, so
the number of SOAP calls grows with pages, not with objects or attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pyVmomi import vim, vmodl

from assess.collect.vcenter.connection import Session

PC = vmodl.query.PropertyCollector


@dataclass
class ObjectProps:
    """One object's requested properties: ``moref``, vim type name, path -> value, faulted paths."""

    moref: str
    kind: str
    props: dict = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, default=None):
        """The value at ``path`` (the exact path asked for), or ``default``."""
        return self.props.get(path, default)


def filter_spec(view: vim.view.ContainerView, paths: Mapping[type, Sequence[str]]) -> PC.FilterSpec:
    """A filter over every object of ``view`` with explicit property paths per type."""
    traverse = PC.TraversalSpec(name="view", type=vim.view.ContainerView, path="view", skip=False)
    return PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
        propSet=[PC.PropertySpec(type=t, pathSet=list(p), all=False) for t, p in paths.items()],
    )


def _records(objects) -> list[ObjectProps]:
    out = []
    for content in objects or []:
        record = ObjectProps(content.obj._moId, type(content.obj).__name__)
        for prop in content.propSet or []:
            record.props[prop.name] = prop.val
        for missing in content.missingSet or []:
            record.faults[missing.path] = type(missing.fault).__name__.rsplit(".", 1)[-1]
        out.append(record)
    return out


def _retrieve_once(
    session: Session,
    paths: Mapping[type, Sequence[str]],
    page_size: int,
    on_page: Callable[[int], None] | None,
) -> tuple[list[ObjectProps], int]:
    content = session.content
    view = content.viewManager.CreateContainerView(content.rootFolder, list(paths), True)
    try:
        collector = content.propertyCollector
        result = collector.RetrievePropertiesEx(
            [filter_spec(view, paths)], PC.RetrieveOptions(maxObjects=page_size)
        )
        records, pages = [], 0
        while result is not None:
            pages += 1
            records.extend(_records(result.objects))
            if on_page:
                on_page(len(records))
            if not result.token:
                break
            result = collector.ContinueRetrievePropertiesEx(result.token)
        return records, pages
    finally:
        try:
            view.DestroyView()
        except (vmodl.MethodFault, OSError):
            pass


def retrieve_properties(
    session: Session,
    paths: Mapping[type, Sequence[str]],
    page_size: int = 500,
    on_page: Callable[[int], None] | None = None,
) -> tuple[list[ObjectProps], int, list[str]]:
    """Return every object whose type is in ``paths`` with those paths, the page count, and dropped paths.

    A session that expires mid-way (``NotAuthenticated``) is logged in again and the
    retrieval restarts with a fresh view, since views and tokens die with their session.
    A path the server's API version does not know (``InvalidProperty``) is dropped and the
    read repeated, so an older vCenter still yields everything else. Objects deleted while
    paging come back with their paths in ``faults`` (``ManagedObjectNotFound``) for the
    caller to warn about.
    """
    paths = {kind: list(p) for kind, p in paths.items()}
    dropped: list[str] = []
    while True:
        try:
            records, pages = _retrieve_once(session, paths, page_size, on_page)
            return records, pages, dropped
        except vim.fault.NotAuthenticated:
            session.relogin()
        except vmodl.query.InvalidProperty as exc:
            if not exc.name or not any(exc.name in p for p in paths.values()):
                raise
            dropped.append(exc.name)
            paths = {kind: [x for x in p if x != exc.name] for kind, p in paths.items()}


def object_properties(session: Session, obj, paths: Sequence[str]) -> dict:
    """Return ``paths`` of the single managed object ``obj`` in one call (path -> value)."""
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=obj, skip=False)],
        propSet=[PC.PropertySpec(type=type(obj), pathSet=list(paths), all=False)],
    )

    def fetch():
        result = session.content.propertyCollector.RetrievePropertiesEx([spec], PC.RetrieveOptions())
        return _records(result.objects if result else [])

    records = session.call(fetch)
    return records[0].props if records else {}
