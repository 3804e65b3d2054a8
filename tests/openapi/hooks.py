"""Schemathesis hooks for Skein (SCHEMATHESIS_HOOKS=hooks): CLEF request
bodies, one JSON object per line, go on the wire as UTF-8 text."""

import schemathesis


@schemathesis.serializer("application/vnd.serilog.clef")
def clef(ctx, value):
    if isinstance(value, bytes):
        return {"data": value}
    return {"data": str(value).encode("utf8")}
