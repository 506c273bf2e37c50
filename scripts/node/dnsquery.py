"""One DNS question over UDP, with the standard library: does a server answer a name?

The node asks the cluster DNS Service from this machine (host to ClusterIP works through
kube-proxy's rules and the bridge's route) to know CoreDNS serves before `up` returns,
without dig or a resolver library on the host. A records only, no retries, no TCP.
"""

from __future__ import annotations

import secrets
import socket
import struct

TYPE_A = 1
CLASS_IN = 1
RECURSION_DESIRED = 0x0100
HEADER = struct.Struct("!HHHHHH")  # id, flags, questions, answers, authority, additional
ANSWER = struct.Struct("!HHIH")  # type, class, ttl, data length
NOERROR = 0
RCODES = {1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


class DNSError(Exception):
    """No usable answer: no reply in time, a malformed one, or an error code."""


def resolve_a(server: str, name: str, *, port: int = 53, timeout: float = 2.0) -> list[str]:
    """The IPv4 addresses `server` gives for `name` (an empty list: no A record)."""
    ident = secrets.randbits(16)
    question = _encode_name(name) + struct.pack("!HH", TYPE_A, CLASS_IN)
    query = HEADER.pack(ident, RECURSION_DESIRED, 1, 0, 0, 0) + question
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(query, (server, port))
            reply, _ = sock.recvfrom(4096)
        except OSError as error:
            raise DNSError(f"{server}:{port} did not answer {name}: {error}") from error
    return _addresses(reply, ident, HEADER.size + len(question), name)


def _encode_name(name: str) -> bytes:
    labels = [label.encode("idna") for label in name.rstrip(".").split(".")]
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\0"


def _addresses(reply: bytes, ident: int, question_end: int, name: str) -> list[str]:
    """The A records of a reply to our one question (which ends at `question_end`)."""
    if len(reply) < question_end:
        raise DNSError(f"a short reply for {name} ({len(reply)} bytes)")
    got_id, flags, _, answers, _, _ = HEADER.unpack_from(reply)
    if got_id != ident:
        raise DNSError(f"a reply for {name} with another query's id")
    rcode = flags & 0x000F
    if rcode != NOERROR:
        raise DNSError(f"{name}: {RCODES.get(rcode, f'rcode {rcode}')}")
    found, offset = [], question_end
    for _ in range(answers):
        offset = _skip_name(reply, offset)
        kind, klass, _, length = ANSWER.unpack_from(reply, offset)
        offset += ANSWER.size
        if kind == TYPE_A and klass == CLASS_IN and length == 4:
            found.append(socket.inet_ntoa(reply[offset : offset + 4]))
        offset += length
    return found


def _skip_name(reply: bytes, offset: int) -> int:
    """The offset after a (possibly compressed) name in a reply."""
    while True:
        length = reply[offset]
        if length & 0xC0 == 0xC0:  # a pointer ends the name
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length
