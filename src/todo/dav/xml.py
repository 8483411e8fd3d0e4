"""The WebDAV and CalDAV XML this server reads and writes. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CS = "http://calendarserver.org/ns/"
ET.register_namespace("d", DAV)
ET.register_namespace("c", CALDAV)
ET.register_namespace("cs", CS)


def tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


@dataclass
class Answer:
    """One `<d:response>`: a resource and the properties found for it (a value, or an element to nest);
    the asked-for properties it does not have are answered 404."""

    href: str
    found: dict[str, str | ET.Element | list[ET.Element] | None] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def multistatus(responses: Iterable[Answer]) -> bytes:
    root = ET.Element(tag(DAV, "multistatus"))
    for one in responses:
        response = ET.SubElement(root, tag(DAV, "response"))
        ET.SubElement(response, tag(DAV, "href")).text = one.href
        if one.found:
            _propstat(response, one.found, "HTTP/1.1 200 OK")
        if one.missing:
            _propstat(response, dict.fromkeys(one.missing), "HTTP/1.1 404 Not Found")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def _propstat(
    response: ET.Element, props: dict[str, str | ET.Element | list[ET.Element] | None], status: str
) -> None:
    propstat = ET.SubElement(response, tag(DAV, "propstat"))
    prop = ET.SubElement(propstat, tag(DAV, "prop"))
    for name, value in props.items():
        element = ET.SubElement(prop, name)
        if isinstance(value, str):
            element.text = value
        elif isinstance(value, ET.Element):
            element.append(value)
        elif isinstance(value, list):
            element.extend(value)
    ET.SubElement(propstat, tag(DAV, "status")).text = status


def element(name: str, text: str | None = None, children: Iterable[ET.Element] = ()) -> ET.Element:
    made = ET.Element(name)
    made.text = text
    made.extend(children)
    return made


@dataclass(frozen=True)
class Asked:
    """What a PROPFIND or REPORT body asks for: property names (`{ns}name`; empty: all), the report's
    kind (`calendar-query`, `calendar-multiget`, or None for a PROPFIND) and a multiget's hrefs."""

    props: tuple[str, ...] = ()
    report: str | None = None
    hrefs: tuple[str, ...] = ()


def read_request(body: bytes) -> Asked:
    """An empty body asks for everything (allprop); a body that is not XML is a ValueError."""
    if not body.strip():
        return Asked()
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError(f"the body is not XML: {exc}") from exc
    prop = root.find(tag(DAV, "prop"))
    props = tuple(child.tag for child in prop) if prop is not None else ()
    report = root.tag.split("}", 1)[-1] if root.tag.startswith(f"{{{CALDAV}}}") else None
    hrefs = tuple(h.text.strip() for h in root.iter(tag(DAV, "href")) if h.text)
    return Asked(props, report, hrefs)
