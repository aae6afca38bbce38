"""Every `Annotated` dependency alias lives in gateway/deps.py, so a route's
dependencies are found in one place and no two modules define the same one.
(Annotated field types, gateway/api/fields.py's `Line` and the like, are
not dependencies: no `Depends` in them.)"""

from __future__ import annotations

import re
from pathlib import Path

GATEWAY = Path(__file__).parents[2] / "gateway"  # the package, not tests/gateway
# `Name = Annotated[` or `Name: TypeAlias = Annotated[` at any indentation.
ALIAS = re.compile(r"^\s*(\w+)\s*(?::\s*[\w.]+\s*)?=\s*Annotated\[", re.MULTILINE)


def aliases_in(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [m.group(1) for m in ALIAS.finditer(text) if "Depends(" in _bracketed(text, m.end())]


def _bracketed(text: str, start: int) -> str:
    """From just after `Annotated[` to its closing bracket."""
    depth = 1
    for end in range(start, len(text)):
        depth += {"[": 1, "]": -1}.get(text[end], 0)
        if depth == 0:
            return text[start:end]
    return text[start:]


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
