"""Every `Annotated` dependency alias lives in gateway/deps.py, so a route's
dependencies are found in one place and no two modules define the same one."""

from __future__ import annotations

import re
from pathlib import Path

GATEWAY = Path(__file__).parents[2] / "gateway"  # the package, not tests/gateway
# `Name = Annotated[` or `Name: TypeAlias = Annotated[` at any indentation.
ALIAS = re.compile(r"^\s*(\w+)\s*(?::\s*[\w.]+\s*)?=\s*Annotated\[", re.MULTILINE)


def aliases_in(path: Path) -> list[str]:
    return ALIAS.findall(path.read_text(encoding="utf-8"))


def test_no_module_but_deps_defines_a_dependency_alias() -> None:
    assert (GATEWAY / "app.py").is_file()
    elsewhere = {
        str(path.relative_to(GATEWAY)): names
        for path in sorted(GATEWAY.rglob("*.py"))
        if path.name != "deps.py" or path.parent != GATEWAY
        if (names := aliases_in(path))
    }
    assert elsewhere == {}


def test_deps_holds_the_aliases_routes_declare() -> None:
    assert {"TenantDep", "BackendsDep", "SessionDep", "StaffDep", "CallerDep", "StaffPage"} <= set(
        aliases_in(GATEWAY / "deps.py")
    )
