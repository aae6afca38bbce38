"""The committed generated code must match what protos/*.proto generate today.

Compared without the generator's own version stamps (grpcio-tools writes its
version into every *_pb2_grpc.py, and its bundled protoc the protobuf version
into every *_pb2.py): a grpcio-tools patch release is not a change to the
contract, and comparing them made a fresh clone's CI fail the day PyPI had a
newer patch than the one the code was generated with (1.85.1 -> 1.85.4)."""

import re
from pathlib import Path

from deploy.protos import PROTOS, generate, generated_files

_STAMPS = (
    re.compile(rb"GRPC_GENERATED_VERSION = '[^']*'"),
    re.compile(rb"# Protobuf Python Version: \S+"),
    re.compile(rb"ValidateProtobufRuntimeVersion\(\s*_runtime_version\.Domain\.PUBLIC,[^']*'"),
)


def _unstamped(code: bytes) -> bytes:
    for stamp in _STAMPS:
        code = stamp.sub(b"<generator version>", code)
    return code


def test_generated_code_matches_the_proto_files(tmp_path: Path):
    generate(tmp_path)
    fresh = generated_files(tmp_path)
    committed = generated_files(PROTOS)
    assert fresh, "protoc generated nothing"
    assert sorted(fresh) == sorted(committed), "generated files differ: run `make protos`"
    stale = [name for name in fresh if _unstamped(fresh[name]) != _unstamped(committed[name])]
    assert not stale, f"stale generated code, run `make protos`: {stale}"


def test_the_version_stamps_are_all_that_is_ignored():
    a = b"GRPC_GENERATED_VERSION = '1.85.1'\ndef f(): return 1\n"
    b = b"GRPC_GENERATED_VERSION = '1.85.4'\ndef f(): return 1\n"
    c = b"GRPC_GENERATED_VERSION = '1.85.4'\ndef f(): return 2\n"
    assert _unstamped(a) == _unstamped(b)
    assert _unstamped(b) != _unstamped(c)
