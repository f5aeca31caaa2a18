"""Read the few elements a legacy XML message is parsed for, from untrusted bytes, within bounds.

Theory of operation
-------------------
Building a whole ElementTree costs far more than the body: a 33 MB body of
nested ``<a>`` took 15 s and 1.3 GB.  :func:`read_xml` streams the body
through expat instead and keeps only what a :class:`Schema` names: the root,
the children the schema lists under it, and so on down; everything else is
dropped as it goes by.  A kept element keeps its text only if the schema asks
for it (a 20 MB ``PDFBytes`` is never held), and a singular element only its
first occurrence, the one ElementTree's ``find`` would return.  Its text is
what ``Element.text`` would be: the character data before its first child.

The bounds, in the order they are checked:

1. Before expat reads a byte, by counting bytes (C speed, an upper bound):
   at most ``max_items`` elements, since every start tag opens with a ``<``
   that is not ``</``; and at most ``max_items // 10`` attributes, since every
   attribute (namespace declarations included) has an ``=`` followed by a
   quote or white space.  ``<`` and ``=`` in text, comments or CDATA only
   over-count.  Attributes get the smaller bound because expat and pyexpat
   build several objects per attribute (about 250 bytes, more with a long
   namespace) for a whole start tag before any handler can refuse it.
2. While parsing: at most ``max_depth`` elements open at once, and namespace
   names of at most :data:`MAX_NAMESPACE_CHARS` characters, since expat
   writes the namespace name into every qualified name it reports.  A
   handler refuses by raising: an exception in an expat handler stops the
   parse on the spot and propagates (the tests check both).
3. What is kept: the schema's elements only.  pyexpat interns every name it
   reports for the parser's lifetime; the reader empties that table when it
   grows past a few hundred names, so that many distinct names (each
   carrying its namespace) cannot pile up.

The parser is ``defusedxml``'s, with document type declarations, entities
and external references forbidden: its handlers refuse a DTD before anything
in it is expanded.  The reader installs its own content handlers on that
parser's expat object instead of being an ElementTree ``target``:
ElementTree's ``XMLParser`` keeps its own memo of every distinct name for the
whole parse and hands comments and processing instructions to a Python
default handler as whole strings, none of which the reader needs.

Known cost left as it is: expat before 2.6.0 re-scans an unfinished token
each time pyexpat feeds it another 1 MB, so a body that is one huge token (a
30 MB comment, attribute value or name) costs time growing with the square of
that token, 1.5 to 3 s at 32 MiB (CVE-2023-52425, fixed in expat 2.6.0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from .errors import PayloadError

__all__ = ["MAX_NAMESPACE_CHARS", "Element", "Schema", "Shape", "read_xml"]

#: The longest namespace name (URI) the reader accepts.  Real ones are far shorter
#: (DocuSign's is 31 characters, XML Schema's 41).
MAX_NAMESPACE_CHARS: Final = 256

# expat joins a namespace name and a local name with this (ElementTree's choice too).
_SEPARATOR: Final = "}"
# pyexpat's table of interned names is emptied past this many (a message has about 70).
_MAX_INTERNED: Final = 512
# What may follow the "=" of an attribute: its quote, or white space before it.
_AFTER_EQUALS: Final = (b'="', b"='", b"= ", b"=\t", b"=\n", b"=\r")


@attrs.frozen
class Shape:
    """Which children of an element to keep, and whether to keep its text.

    Attributes:
        children: local name -> the shape of that child (in the schema's namespace).
        text: keep the element's text.
        repeated: keep every occurrence of the element, not only the first.
    """

    children: Mapping[str, Shape] = attrs.field(factory=dict)
    text: bool = False
    repeated: bool = False


class Element:
    """An element the reader kept: its text and its kept children, by local name, in order."""

    __slots__ = ("_parts", "children")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self.children: dict[str, list[Element]] = {}

    @property
    def text(self) -> str | None:
        """Its text before its first child, as ``Element.text``; ``None`` when there is none."""
        return "".join(self._parts) or None

    def first(self, name: str) -> Element | None:
        """The first kept child called ``name``, as ElementTree's ``find``."""
        found = self.children.get(name)
        return found[0] if found else None

    def all(self, name: str) -> list[Element]:
        """Every kept child called ``name``, in document order, as ``findall``."""
        return self.children.get(name, [])


# What the reader looks up per start tag: expat's "namespace}local" name -> the local
# name, whether to keep its text, whether it repeats, and the same table for its children.
_Plan = dict[str, tuple[str, bool, bool, "_Plan"]]


def _plan(shape: Shape, namespace: str) -> _Plan:
    return {
        f"{namespace}{_SEPARATOR}{name}": (
            name, child.text, child.repeated, _plan(child, namespace)
        )
        for name, child in shape.children.items()
    }  # fmt: skip


class Schema:
    """The root element a document must have, and the :class:`Shape` of what to keep under it.

    >>> schema = Schema("urn:x", "Root", Shape({"Name": Shape(text=True)}))
    >>> read_xml(b'<Root xmlns="urn:x"><Name>Sue</Name></Root>', schema,
    ...          max_depth=8, max_items=100).first("Name").text
    'Sue'
    """

    def __init__(self, namespace: str, root: str, shape: Shape) -> None:
        self.namespace = namespace
        self.root = root
        self.shape = shape
        self._root_name = f"{namespace}{_SEPARATOR}{root}"
        self._plan = _plan(shape, namespace)


class _Refused(Exception):
    """Raised inside a handler to stop the parse; becomes a PayloadError with the position."""

    def __init__(self, message: str, at: bool = True) -> None:
        super().__init__(message)
        self.at = at


class _Reader:
    """expat's content handlers: keep what the schema names, enforce depth and namespaces."""

    def __init__(self, schema: Schema, max_depth: int, interned: dict[str, str]) -> None:
        self._schema = schema
        self._max_depth = max_depth
        self._interned = interned
        self.root: Element | None = None
        # Per open element: the plan of its children and the element itself, or None when
        # it is not kept (then nothing inside it is either).
        self._open: list[tuple[_Plan, Element] | None] = []
        self._text: list[str] | None = None  # where character data goes, if anywhere

    def on_start(self, name: str, attributes: list[str]) -> None:
        self._text = None  # a child ends its parent's text
        if len(self._interned) > _MAX_INTERNED:
            self._interned.clear()
        open_ = self._open
        if len(open_) >= self._max_depth:
            raise _Refused(f"elements nested more than {self._max_depth} deep")
        if not open_:
            open_.append(self._start_root(name))
            return
        parent = open_[-1]
        step = None if parent is None else parent[0].get(name)
        if parent is None or step is None:
            open_.append(None)
            return
        local, text, repeated, plan = step
        siblings = parent[1].children.setdefault(local, [])
        if siblings and not repeated:
            open_.append(None)  # only the first counts, as with find()
            return
        element = Element()
        siblings.append(element)
        if text:
            self._text = element._parts
        open_.append((plan, element))

    def _start_root(self, name: str) -> tuple[_Plan, Element]:
        schema = self._schema
        if name != schema._root_name:
            # expat refuses the separator inside a namespace name, so this split is exact.
            namespace, _, local = name.rpartition(_SEPARATOR)
            where = f"in namespace {namespace[:80]!r}" if namespace else "without a namespace"
            raise _Refused(
                f"the root element is {local[:60]!r} {where}, "
                f"expected {schema.root} in namespace {schema.namespace}",
                at=False,
            )
        self.root = Element()
        return schema._plan, self.root

    def on_end(self, name: str) -> None:
        self._open.pop()
        self._text = None

    def on_data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)

    def on_namespace(self, prefix: str | None, uri: str | None) -> None:
        if uri is not None and len(uri) > MAX_NAMESPACE_CHARS:
            raise _Refused(
                f"a namespace name of {len(uri)} characters, more than the limit of "
                f"{MAX_NAMESPACE_CHARS}"
            )


class _NoTree:
    """ElementTree's target protocol asks for close(); the reader keeps what it needs itself."""

    def close(self) -> None:
        """The end of the document: nothing to build."""


def _prescan(body: bytes, max_items: int) -> None:
    elements = body.count(b"<") - body.count(b"</")
    if elements > max_items:
        raise PayloadError(
            f"XML message: too many elements: up to {elements} by its '<' signs, "
            f"more than the limit of {max_items}"
        )
    most = max_items // 10
    attributes = body.count(b"=")
    if attributes > most:  # then count only the '=' that can belong to an attribute
        attributes = sum(body.count(pattern) for pattern in _AFTER_EQUALS)
        if attributes > most:
            raise PayloadError(
                f"XML message: too many attributes: up to {attributes} by its '=' signs, "
                f"more than the limit of {most} (a tenth of max_items)"
            )


def read_xml(body: bytes, schema: Schema, *, max_depth: int, max_items: int) -> Element:
    """The root element of ``body``, with what ``schema`` keeps under it.

    Raises:
        PayloadError: the body is not well-formed XML, declares a document type,
            has another root element, or passes a bound (the message says which,
            and where).
    """
    _prescan(body, max_items)
    # Imported here: a JSON-only listener, and every simulation, never pays for them.
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    # No ElementTree target methods, so ElementTree wires no content handler of its own.
    parser = DefusedXMLParser(
        target=_NoTree(), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    expat = parser.parser  # the expat object defusedxml has set up
    reader = _Reader(schema, max_depth, expat.intern)
    _install(expat, reader)
    try:
        parser.feed(body)
        parser.close()
    except _Refused as refused:
        where = ""
        if refused.at:
            where = f" (line {expat.ErrorLineNumber} column {expat.ErrorColumnNumber})"
        raise PayloadError(f"XML message: {refused}{where}") from None
    except DefusedXmlException as error:
        raise PayloadError(f"XML message: refused: {type(error).__name__}") from None
    except ParseError as error:
        line, column = error.position
        raise PayloadError(
            f"XML message: not well-formed at line {line} column {column}"
        ) from None
    except LookupError as error:  # the declaration names an encoding Python does not know
        raise PayloadError(f"XML message: {error}") from None
    except (ValueError, RecursionError) as error:
        raise PayloadError(f"XML message: cannot be parsed ({type(error).__name__})") from None
    assert reader.root is not None  # expat refuses a document without a root element
    return reader.root


def _install(expat: Any, reader: _Reader) -> None:
    """Point expat's content events at ``reader``; defusedxml's handlers stay as they are."""
    expat.StartElementHandler = reader.on_start
    expat.EndElementHandler = reader.on_end
    expat.CharacterDataHandler = reader.on_data
    expat.StartNamespaceDeclHandler = reader.on_namespace
    # Comments, processing instructions and the XML declaration would reach ElementTree's
    # default handler as whole strings; nothing here needs them.  Entity references need
    # no default handler either: without a DTD expat refuses an undefined one itself.
    expat.DefaultHandlerExpand = None
