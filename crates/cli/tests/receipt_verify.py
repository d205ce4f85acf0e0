#!/usr/bin/env python3
"""An independent check of a casetrail receipt, written from RFC 9162 and
RFC 8785 without looking at casetrail's Rust code (docs/receipts.md).

    receipt_verify.py RECEIPT.json [--against HEAD.json]

Exit 0 when the receipt holds; 1, naming what failed, when it does not.
Merkle hashing uses only hashlib; the Ed25519 head signature uses the
`cryptography` package (scripts/test installs it).
"""

import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Failed(Exception):
    pass


# RFC 8785 (JCS) for the values a casetrail record holds: objects, arrays,
# strings, integers, booleans and null.
def jcs(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        raise Failed("format: non-integral numbers are not used by casetrail records")
    if isinstance(value, str):
        # json.dumps escapes exactly what RFC 8785 §3.2.2.2 escapes, with
        # lowercase \u00xx for other control characters.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(jcs(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: key.encode("utf-16-be"))
        return "{" + ",".join(jcs(key) + ":" + jcs(value[key]) for key in keys) + "}"
    raise Failed(f"format: unexpected JSON value {value!r}")


def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(data):
    return sha256(b"\x00" + data)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def hashes(texts, what):
    out = []
    for text in texts:
        raw = bytes.fromhex(text)
        if len(raw) != 32:
            raise Failed(f"format: {what} holds a hash that is not 32 bytes")
        out.append(raw)
    return out


# RFC 9162 §2.1.3.2: verifying an inclusion proof.
def root_from_inclusion(leaf_index, tree_size, leaf, path):
    if leaf_index >= tree_size:
        raise Failed("inclusion: leaf index outside the tree")
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            raise Failed("inclusion: proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Failed("inclusion: proof too short")
    return r


# RFC 9162 §2.1.4.2: verifying a consistency proof.
def check_consistency(first, second, first_hash, second_hash, path):
    if first == 0 or first > second:
        raise Failed("consistency: impossible sizes")
    if first == second:
        if path or first_hash != second_hash:
            raise Failed("consistency: equal sizes need equal roots and an empty proof")
        return
    if not path:
        raise Failed("consistency: empty proof")
    if first & (first - 1) == 0:
        path = [first_hash] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Failed("consistency: proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Failed("consistency: proof too short")
    if fr != first_hash:
        raise Failed("consistency: the old root does not match (a fork)")
    if sr != second_hash:
        raise Failed("consistency: the new root does not match")


def check_head(head, key_bytes, what):
    if base64.b64decode(head["key"]) != key_bytes:
        raise Failed(f"{what}: signed by another key")
    root = bytes.fromhex(head["root"])
    signed = b"casetrail-tree-head-v1\n" + head["size"].to_bytes(8, "big") + head["timestamp_ms"].to_bytes(8, "big") + root
    try:
        Ed25519PublicKey.from_public_bytes(key_bytes).verify(base64.b64decode(head["signature"]), signed)
    except InvalidSignature:
        raise Failed(f"{what}: bad signature")
    return root


def verify(receipt, later=None):
    if receipt.get("format") != "casetrail-receipt-v1":
        raise Failed("format: not a casetrail-receipt-v1")
    key = base64.b64decode(receipt["public_key"])
    head = receipt["tree_head"]
    root = check_head(head, key, "head signature")
    entry = receipt["entry"]
    members = {name: entry[name] for name in ("key", "record", "recorded_at", "schema_version", "seq", "source")}
    leaf = leaf_hash(jcs(members).encode("utf-8"))
    path = hashes(receipt["inclusion_proof"], "inclusion_proof")
    if root_from_inclusion(entry["seq"] - 1, head["size"], leaf, path) != root:
        raise Failed("inclusion: the computed root is not the signed root")
    if later is not None:
        if later.get("consistency_from") != head["size"]:
            raise Failed("later head: its consistency proof does not start at the receipt's size")
        new_root = check_head(later["tree_head"], key, "later head signature")
        proof = hashes(later["consistency_proof"], "consistency_proof")
        check_consistency(head["size"], later["tree_head"]["size"], root, new_root, proof)


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--against"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as file:
        receipt = json.load(file)
    later = None
    if len(argv) == 4:
        with open(argv[3], encoding="utf-8") as file:
            later = json.load(file)
    try:
        verify(receipt, later)
    except (Failed, KeyError, ValueError, TypeError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    print(f"OK: event {receipt['entry']['seq']} in the tree of {receipt['tree_head']['size']} events")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
