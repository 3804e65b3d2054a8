"""Logs through the real PyPI Seq client (seqlog) to a Skein node, as its
users do. Driven by tests/compat.rs; dependencies installed by
tests/run-all.sh (`pip install -r requirements.txt` into target/compat-venv).

    python log.py <server_url> <marker> legacy|clef

`legacy` is seqlog's default (`POST /api/events/raw`, `{"Events":[...]}`,
timestamps with a space separator); `clef` is `use_clef=True`
(`POST /ingest/clef`, CRLF-separated lines, `@r` misused as an array of
positional arguments). Sends five events, one at each of DEBUG, INFO,
WARNING, ERROR (with an exception) and CRITICAL, each with the property
Marker = <marker>. Exits non-zero if seqlog reports any failure.
"""

import logging
import sys

import seqlog

server_url, marker, mode = sys.argv[1:4]
if mode not in ("legacy", "clef"):
    sys.exit("mode must be legacy or clef")

failures = []
seqlog.set_callback_on_failure(failures.append)

handler = seqlog.log_to_seq(
    server_url=server_url,
    level=logging.DEBUG,
    batch_size=100,
    auto_flush_timeout=0.2,
    override_root_logger=True,
    use_clef=(mode == "clef"),
)
log = logging.getLogger("compat")
client = "seqlog-" + mode

# Positional %-style arguments: legacy sends properties "0", "1"; CLEF sends `@r`.
log.debug("Compat %s positional %d", marker, 5)
log.info(
    "Compat {Marker} hello {User}",
    Marker=marker,
    Client=client,
    User="bob",
    Count=42,
    Ratio=0.25,
    Nested={"Region": "eu", "Tags": ["a", "b"], "Inner": {"Depth": 2, "Ok": True}},
)
log.warning("Compat {Marker} disk at {Percent}%", Marker=marker, Client=client, Percent=91)
try:
    raise ValueError("boom " + marker)
except ValueError:
    log.exception("Compat {Marker} failed", Marker=marker, Client=client)
log.critical("Compat {Marker} down", Marker=marker, Client=client)

# seqlog batches on a background thread: wait until it has taken every record
# off its queue, then flush the batch it holds (a synchronous POST).
handler.log_queue.join()
handler.flush()
if failures:
    sys.exit("seqlog reported %d failure(s): %r" % (len(failures), failures))
print("sent 5 events")
