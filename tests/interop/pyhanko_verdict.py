#!/usr/bin/env python3
"""pyHanko's verdict on every signature of a PDF, as one JSON line.

usage: pyhanko_verdict.py FILE.pdf ROOT.pem [CERT.pem ...]

For each embedded signature: whether it is intact (digest), valid
(signature value), trusted (chain to ROOT), pyHanko's modification level
of later revisions (its difference analysis), whether DocMDP rules hold,
and its bottom line. Revocation is not checked (soft-fail, no fetching):
this compares change analysis and cryptography, not revocation.
A document pyHanko cannot read gives {"error": "..."}.
"""
import json
import sys
import logging

logging.disable(logging.CRITICAL)

from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext


def main():
    path, root, *others = sys.argv[1:]
    out = []
    try:
        with open(path, "rb") as f:
            reader = PdfFileReader(f, strict=False)
            vc = ValidationContext(
                trust_roots=list(load_certs_from_pemder([root])),
                other_certs=list(load_certs_from_pemder(others)),
                allow_fetching=False,
                revocation_mode="soft-fail",
            )
            for sig in reader.embedded_signatures:
                entry = {"field": sig.field_name}
                try:
                    if sig.sig_object_type == "/DocTimeStamp":
                        status = validate_pdf_timestamp(sig, validation_context=vc)
                    else:
                        status = validate_pdf_signature(sig, signer_validation_context=vc)
                    level = getattr(status, "modification_level", None)
                    entry.update(
                        intact=bool(status.intact),
                        valid=bool(status.valid),
                        trusted=bool(status.trusted),
                        modification_level=level.name if level is not None else None,
                        docmdp_ok=getattr(status, "docmdp_ok", None),
                        bottom_line=bool(status.bottom_line),
                    )
                except Exception as e:  # a broken signature is a verdict too
                    entry.update(error=f"{type(e).__name__}: {e}", bottom_line=False)
                out.append(entry)
    except Exception as e:
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        return
    print(json.dumps({"signatures": out}))


if __name__ == "__main__":
    main()
