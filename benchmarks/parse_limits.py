"""What ``parse_message`` costs: the worst bodies under the byte limit, large and typical ones.

Each case builds one body, writes it to a temporary file and parses it in a
fresh Python process, so that one case's garbage cannot hide another's peak.
The child reads the file (one allocation the size of the body), notes its
peak resident memory, parses the body once timed, and reports:

- ``time``: wall time of that one parse, and seconds per MB of body;
- ``rss``: how much the process's peak resident memory grew during the
  parse, over what it held with the body read (Linux ``VmHWM``);
- ``traced``: the peak of Python's allocator during a second parse under
  ``tracemalloc`` (expat allocates through it too), which is finer than
  ``rss`` when freed memory is reused;
- the outcome: ``parsed`` or the ``PayloadError`` message (shortened).

The child caps its address space (``--cap-gb``, 6 GB by default) so that a
parser without bounds fails with ``MemoryError`` instead of taking the machine.

Pathological cases fill the byte limit (32 MiB) with one construction each;
``*-at-limit`` cases are the same constructions cut to just inside the item
bounds, the worst that is parsed rather than refused.  ``typical-*`` are the
seed example's last message (recipients and custom fields; 2-3 kB), timed
as the best of ``--repeat`` runs of ``--rounds`` parses in one process.

Usage: python benchmarks/parse_limits.py [--only NAME[,NAME...]] [--cap-gb G]
       [--rounds N] [--repeat R]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
import timeit
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import connect_sim as cs
from connect_sim import parsing

LIMIT = 32 * 1024 * 1024 - 64  # room for the envelope around a construction
# The parser's default bound on XML elements or JSON values; a parser from before the
# bounds has none, and is measured on the same bodies.
ITEMS: int = getattr(parsing, "MAX_ITEMS", 200_000)
NS = b'xmlns="http://www.docusign.net/API/3.0"'
ROOT = b"<DocuSignEnvelopeInformation " + NS + b">"
END = b"</DocuSignEnvelopeInformation>"
EMOJI = "\U0001f58a".encode()
LONG_URI = b"u" * 256  # the longest namespace name the parser accepts


def repeat_to(unit: Callable[[int], bytes], room: int, count: int | None = None) -> bytes:
    """``unit(0) + unit(1) + ...``: as many as fit in ``room`` bytes, or ``count`` of them."""
    parts, size, i = [], 0, 0
    while count is None or i < count:
        piece = unit(i)
        if size + len(piece) > room:
            break
        parts.append(piece)
        size += len(piece)
        i += 1
    return b"".join(parts)


def nested(depth: int, inside: bool) -> bytes:
    """``depth`` nested ``<a>``, inside the Connect root element or on their own."""
    body = b"<a>" * depth + b"</a>" * depth
    return ROOT + body + END if inside else body


def json_nested(depth: int) -> bytes:
    return b'{"a":' + b"[" * depth + b"]" * depth + b"}"


def many(count: int | None, unit: Callable[[int], bytes], head: bytes, tail: bytes) -> bytes:
    return head + repeat_to(unit, LIMIT - len(head) - len(tail), count) + tail


def seed_body(fmt: str) -> bytes:
    sim = cs.Simulation(seed=1)
    sim.add_configuration(
        cs.Configuration(name="c", format=fmt, include_data=["recipients", "custom_fields"])
    )
    sue = cs.Signer("Sue Signer", "sue@example.com", 1, "sue")
    charlie = cs.CarbonCopy("Charlie Copy", "charlie@example.com", 2, "charlie")
    env = sim.create_envelope("Please sign", [sue, charlie], custom_fields={"Region": "EMEA"})
    sim.send(env)
    sim.sign(env, "sue", at=timedelta(minutes=2))
    return sim.run().attempts[-1].body


def document_body(fmt: str, subject: str = "Please sign") -> bytes:
    """A real message carrying a 15 MB document: 20 MB of base64."""
    sim = cs.Simulation(seed=1)
    include = ["recipients", "custom_fields", "documents"]
    sim.add_configuration(cs.Configuration(name="c", format=fmt, include_data=include))
    content = bytes(range(256)) * (15_000_000 // 256)
    people = [cs.Signer(f"Signer {n}", f"s{n}@example.com", n) for n in range(1, 11)]
    env = sim.create_envelope(
        subject, people, custom_fields={"Region": "EMEA"},
        documents=[cs.Document("contract.pdf", content)],
    )  # fmt: skip
    sim.send(env)
    return sim.run().attempts[-1].body


def big_subject(fmt: str) -> bytes:
    """A real message whose subject is 32 MB of text with one emoji: a field that is kept."""
    small = seed_body(fmt)
    at = small.index(b"Please sign")
    filler = b"x" * (LIMIT - len(small) - 20)
    return small[:at] + filler + EMOJI + small[at:]


def element(i: int) -> bytes:
    return b"<a/>"


def named(i: int) -> bytes:
    return b"<p:a%d/>" % i


def attribute(i: int) -> bytes:
    return b' a%d=""' % i


def prefixed_attribute(i: int) -> bytes:
    return b' p:a%d=""' % i


def ns_head(more: bytes = b">") -> bytes:
    return ROOT + b'<x xmlns:p="' + LONG_URI + b'"' + more


def in_object(unit: bytes, count: int) -> bytes:
    """``{"a":[unit,unit,...]}``: ``count`` of them."""
    return b'{"a":[' + (unit + b",") * (count - 1) + unit + b"]}"


JSON, XML = "application/json", "text/xml"
FILL = LIMIT - 200  # bytes of filler in a one-token body
CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    # name: (content type, builder)
    "typical-json": (JSON, lambda: seed_body("json")),
    "typical-xml": (XML, lambda: seed_body("xml")),
    "document-json": (JSON, lambda: document_body("json")),
    "document-xml": (XML, lambda: document_body("xml")),
    "document-json-emoji": (JSON, lambda: document_body("json", "Sign \U0001f58a")),
    "document-xml-emoji": (XML, lambda: document_body("xml", "Sign \U0001f58a")),
    "xml-nested": (XML, lambda: nested(32_900_000 // 7, inside=False)),
    "xml-nested-in-root": (XML, lambda: nested((LIMIT - 100) // 7, inside=True)),
    "xml-nested-at-limit": (XML, lambda: nested(ITEMS - 10, inside=True)),
    "xml-elements": (XML, lambda: many(None, element, ROOT, END)),
    "xml-elements-at-limit": (XML, lambda: many(ITEMS - 10, element, ROOT, END)),
    "xml-attributes": (XML, lambda: many(None, attribute, ROOT + b"<a", b"/>" + END)),
    "xml-attributes-at-limit": (
        XML, lambda: many(ITEMS // 10 - 10, attribute, ROOT + b"<a", b"/>" + END)
    ),
    "xml-namespace-names": (XML, lambda: many(None, named, ns_head(), b"</x>" + END)),
    "xml-namespace-names-at-limit": (
        XML, lambda: many(ITEMS - 10, named, ns_head(), b"</x>" + END)
    ),
    "xml-namespace-attributes-at-limit": (
        XML, lambda: many(ITEMS // 10 - 10, prefixed_attribute, ns_head(b""), b"/>" + END)
    ),
    "xml-comment-emoji": (XML, lambda: ROOT + b"<!--" + b"x" * FILL + EMOJI + b"-->" + END),
    "xml-attribute-value-emoji": (
        XML, lambda: ROOT + b'<a b="' + b"x" * FILL + EMOJI + b'"/>' + END
    ),
    "xml-subject-emoji": (XML, lambda: big_subject("xml")),
    "json-zeros": (JSON, lambda: b"[" + b"0," * (LIMIT // 2) + b"0]"),
    "json-zeros-in-object": (JSON, lambda: in_object(b"0", LIMIT // 2)),
    "json-objects-in-object": (JSON, lambda: in_object(b"{}", LIMIT // 3)),
    "json-objects-at-limit": (JSON, lambda: in_object(b"{}", ITEMS // 2 - 10)),
    "json-nested": (JSON, lambda: b"[" * (LIMIT // 2) + b"]" * (LIMIT // 2)),
    "json-nested-at-limit": (JSON, lambda: json_nested(ITEMS // 2 - 10)),
    "json-keys": (JSON, lambda: many(None, lambda i: b'"k%d":0,' % i, b"{", b'"z":0}')),
    "json-long-integers": (JSON, lambda: in_object(b"9" * 4300, LIMIT // 4301)),
    "json-strings-emoji-at-limit": (
        JSON, lambda: in_object(b'"' + b"x" * 150 + EMOJI + b'"', ITEMS - 10)
    ),
    "json-subject-emoji": (JSON, lambda: big_subject("json")),
    "json-string-emoji": (JSON, lambda: b'{"a":"' + b"x" * FILL + EMOJI + b'"}'),
}  # fmt: skip


def peak_rss() -> int:
    """The process's peak resident memory in kB, reset to the current size on first call.

    ``ru_maxrss`` alone will not do: a child process starts with the peak of
    the parent it was forked from.  Linux can reset the peak (``clear_refs``)
    and reports it as ``VmHWM``; elsewhere ``ru_maxrss`` is the best there is.
    """
    status = Path("/proc/self/status")
    if not status.exists():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if not _reset:
        Path("/proc/self/clear_refs").write_text("5")
        _reset.append(True)
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


_reset: list[bool] = []


def child(path: str, content_type: str, cap_gb: float) -> None:
    """Parse the body in ``path`` once timed and once traced; print one result line."""
    cap = int(cap_gb * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    body = Path(path).read_bytes()
    base = peak_rss()
    outcome = "parsed"
    start = time.perf_counter()
    try:
        cs.parse_message(body, content_type)
    except cs.PayloadError as error:
        outcome = f"PayloadError: {str(error)[:70]}"
    except MemoryError:
        outcome = f"MemoryError at the {cap_gb:g} GB cap"
    elapsed = time.perf_counter() - start
    rss = (peak_rss() - base) / 1024
    traced = float("nan")
    if not outcome.startswith("MemoryError"):
        tracemalloc.start()
        with contextlib.suppress(cs.PayloadError):
            cs.parse_message(body, content_type)
        traced = tracemalloc.get_traced_memory()[1] / 1024**2
        tracemalloc.stop()
    print(f"{elapsed:.3f}\t{rss:.1f}\t{traced:.1f}\t{outcome}")


def typical(content_type: str, body: bytes, rounds: int, repeat: int) -> float:
    """Microseconds per parse of ``body``, the best of ``repeat`` runs of ``rounds``."""
    timer = timeit.Timer(lambda: cs.parse_message(body, content_type))
    return min(timer.repeat(repeat, rounds)) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--cap-gb", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--child", nargs=3, metavar=("PATH", "TYPE", "CAP"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], float(args.child[2]))
        return
    names = args.only.split(",") if args.only else list(CASES)
    print("| body | size MB | time s | s/MB | peak RSS +MB | traced peak MB | outcome |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        content_type, build = CASES[name]
        body = build()
        with tempfile.NamedTemporaryFile(suffix=".body", delete=False) as file:
            file.write(body)
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--child", file.name, content_type, str(args.cap_gb)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
        finally:
            os.unlink(file.name)
        size = len(body) / 1e6
        if done.returncode != 0:
            print(f"| {name} | {size:.1f} | | | | | child failed: {done.stderr.strip()[-80:]} |")
            continue
        elapsed, rss, traced, outcome = done.stdout.strip().split("\t", 3)
        per_mb = float(elapsed) / size
        line = f"| {name} | {size:.2f} | {elapsed} | {per_mb:.3f} | {rss} | {traced} | {outcome} |"
        if name.startswith("typical-"):
            micro = typical(content_type, body, args.rounds, args.repeat)
            line = line.replace(f"| {outcome} |", f"| {outcome}; {micro:.1f} us per parse |")
        print(line, flush=True)


if __name__ == "__main__":
    main()
