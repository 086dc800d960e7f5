"""The layers hold: the import contract of pyproject.toml passes, an upward import breaks it, no
module imports itself round a cycle (imports inside functions count), and every capability's
reaction to another's change is a registered event handler."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

from kosh.platform import events

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root / "src"), str(root)]))
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)


def test_the_import_contract_holds():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _copy_tree(tmp_path: Path) -> Path:
    copy = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "templates", "static", "locale")
    shutil.copytree(ROOT / "src", copy / "src", ignore=ignore)
    shutil.copytree(ROOT / "benchmarks", copy / "benchmarks", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_an_upward_import_breaks_the_contract(tmp_path):
    copy = _copy_tree(tmp_path)
    rules = copy / "src" / "kosh" / "people" / "rules.py"
    rules.write_text(rules.read_text() + "\n\ndef _upward() -> None:\n    from kosh.web import app  # noqa: F401\n")
    result = _lint_imports(copy)
    assert result.returncode != 0
    assert "kosh.people.rules -> kosh.web.app" in result.stdout
    assert "BROKEN" in result.stdout


def test_a_capability_reading_a_siblings_tables_breaks_the_contract(tmp_path):
    copy = _copy_tree(tmp_path)
    service = copy / "src" / "kosh" / "identity" / "service.py"
    service.write_text(service.read_text() + "\n\nfrom kosh.people.models import Person  # noqa: E402, F401\n")
    result = _lint_imports(copy)
    assert result.returncode != 0
    assert "kosh.identity.service -> kosh.people.models" in result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_module_imports_itself_round_a_cycle():
    graph = grimp.build_graph("kosh", "kosh_demo", "benchmarks", include_external_packages=False,
                              exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycles(graph) == [["a.x", "a.y"]]


def test_each_capabilitys_reaction_to_a_person_event_is_registered():
    """Who handles what (the README's list): identity links created persons; stay moves its rows
    on a merge and back on an undo; identity and stay forget removed persons; permits move, bring
    back and forget its workers; stay keeps what a work authorisation gives as lawful basis."""
    def names(event_type: type[events.Event]) -> list[str]:
        return [f"{h.__module__}.{h.__name__}" for h in events.handlers_of(event_type)]

    assert names(events.PersonsCreated) == ["kosh.identity.handlers.link_created_persons"]
    assert names(events.PersonsMerged) == ["kosh.stay.handlers.move_stay_records",
                                           "kosh.permits.handlers.move_permit_workers"]
    assert names(events.PersonsUnmerged) == ["kosh.stay.handlers.restore_stay_records",
                                             "kosh.permits.handlers.restore_permit_workers"]
    assert names(events.PersonsForgotten) == ["kosh.identity.handlers.forget_identity_of_persons",
                                              "kosh.stay.handlers.forget_stay_of_persons",
                                              "kosh.permits.handlers.forget_permit_workers"]
    assert names(events.WorkAuthorisationChanged) == ["kosh.stay.handlers.keep_work_authorisation"]
