"""schemathesis hooks for .ci/schemathesis.sh: the RFC 3161 query is DER
bytes; schemathesis knows no serializer for its media type."""

import schemathesis


@schemathesis.serializer("application/timestamp-query")
def der(ctx, value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")
