"""The layers hold: no import cycle in `neuralab`, and no import from a lower layer to a higher one
(core < the five parts < report < web < cli), counting imports inside functions too. The parts
stand side by side: none imports another."""

import ast
import graphlib
from pathlib import Path

import pytest

import neuralab

ROOT = Path(neuralab.__file__).parent
PARTS = ("backprop", "depth", "filters", "caption", "calc")
LAYER = {"core": 0, **dict.fromkeys(PARTS, 1), "report": 2, "web": 3, "cli": 4, "__main__": 5}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def imports(path: Path) -> set[str]:
    """The neuralab modules a file imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("neuralab")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("neuralab"):
            for alias in node.names:   # `from neuralab.calc import arith` imports the module arith
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return found


def dynamic_imports(path: Path) -> set[str]:
    """`importlib.import_module(f"neuralab.{key}.section")` over the report's parts: one edge per part."""
    text = path.read_text()
    if 'import_module(f"neuralab.{key}.section")' not in text:
        return set()
    from neuralab.report.parts import PARTS as REPORTED
    return {f"neuralab.{key}.section" for key, _, _ in REPORTED}


GRAPH = {name: imports(path) | dynamic_imports(path) for name, path in MODULES.items()}


def test_the_report_s_dynamic_imports_are_followed():
    assert {f"neuralab.{part}.section" for part in PARTS} <= GRAPH["neuralab.report.parts"]


def layer(module: str) -> tuple[str, int]:
    group = module.split(".")[1] if "." in module else "core"   # `neuralab` itself holds only the version
    return group, LAYER[group]


def test_every_module_belongs_to_a_layer():
    assert all(layer(m)[0] in LAYER for m in GRAPH)


def test_there_is_no_import_cycle():
    graphlib.TopologicalSorter(GRAPH).prepare()   # raises CycleError naming the cycle


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_go_down_the_layers_only(module):
    group, rank = layer(module)
    for target in GRAPH[module]:
        other, other_rank = layer(target)
        assert other_rank <= rank, f"{module} (layer {group}) imports {target} (layer {other}), a higher layer"
        if rank == other_rank == LAYER["calc"]:
            assert other == group, f"{module} imports {target}: the parts do not import each other"


def reached(module: str) -> set[str]:
    """Every neuralab module `module` imports, directly or through others."""
    seen, todo = set(), [module]
    while todo:
        for target in GRAPH[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_learned_captioner_knows_nothing_of_the_clip_generator():
    """The attention captioner reads what the clips look like only from its training: its code reaches
    neither the generator (palette, trajectories) nor the colour-plane encoder, and takes only the
    vocabulary from the grammar, not its colour table."""
    model = "neuralab.caption.attention"
    assert not reached(model) & {"neuralab.caption.clips", "neuralab.caption.planes"}
    for name in (model, "neuralab.caption.decoder"):
        for node in ast.walk(ast.parse(MODULES[name].read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "neuralab.caption.grammar":
                assert {a.name for a in node.names} <= {"BOS", "EOS", "MAX_WORDS", "PAD", "VOCAB"}, name


BENCH = ROOT.parent.parent / "bench"


@pytest.mark.parametrize("script", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_a_benchmark_imports_the_library_never_another_script_or_the_tests(script):
    scripts = {p.stem for p in BENCH.glob("*.py")}
    tree = ast.parse(script.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & (scripts | {"tests"}), sorted(imported & (scripts | {"tests"}))
    assert "sys.path" not in script.read_text()
