"""The committed generated code must match what protos/*.proto generate today."""

from pathlib import Path

from deploy.protos import PROTOS, generate, generated_files


def test_generated_code_matches_the_proto_files(tmp_path: Path):
    generate(tmp_path)
    fresh = generated_files(tmp_path)
    committed = generated_files(PROTOS)
    assert fresh, "protoc generated nothing"
    assert sorted(fresh) == sorted(committed), "generated files differ: run `make protos`"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale generated code, run `make protos`: {stale}"
