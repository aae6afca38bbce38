"""Generate Python code from protos/ (`make protos`); also used by the drift test."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2_grpc.py", "_pb2.pyi", "_pb2_grpc.pyi")


def proto_files(root: Path = PROTOS) -> list[Path]:
    return sorted(root.glob("portal/**/*.proto"))


def generate(out_dir: Path, root: Path = PROTOS) -> None:
    """Run protoc (grpcio-tools) with mypy-protobuf stubs into out_dir."""
    import grpc_tools
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).parent / "_proto"
    # protoc finds the mypy-protobuf plugins on PATH, next to this interpreter.
    bindir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    files = [str(p.relative_to(root)) for p in proto_files(root)]
    args = [
        "protoc",
        f"-I{root}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--mypy_out={out_dir}",
        f"--mypy_grpc_out={out_dir}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    # Every generated directory is a package so `import portal.x.v1` works.
    for proto in files:
        pkg = (out_dir / proto).parent
        while pkg != out_dir:
            (pkg / "__init__.py").touch()
            pkg = pkg.parent


def generated_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.glob("portal/**/*"))
        if p.is_file() and p.name.endswith(GENERATED_SUFFIXES)
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        for rel, data in generated_files(Path(tmp)).items():
            target = PROTOS / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            (target.parent / "__init__.py").touch()
        for parent in {p.parent for p in (PROTOS / "portal").rglob("*.proto")}:
            walk = parent
            while walk != PROTOS:
                (walk / "__init__.py").touch()
                walk = walk.parent
    print(f"generated code for {len(proto_files())} proto files", file=sys.stderr)


if __name__ == "__main__":
    main()
