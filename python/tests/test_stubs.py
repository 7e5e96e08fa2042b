"""The stubs (axon.pyi) name every public class and function of the module, and nothing it lacks."""

import ast
from pathlib import Path

import axon

STUBS = Path(__file__).resolve().parents[1] / "axon.pyi"


def test_every_public_name_has_a_stub_and_every_stub_a_name():
    tree = ast.parse(STUBS.read_text())
    stubbed = {node.name for node in tree.body
               if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    stubbed |= {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(t, ast.Name)}
    public = {name for name in dir(axon) if not name.startswith("_")}
    helpers = {"Duration", "Name", "Callback"}  # aliases of the stubs only
    assert public - stubbed == set()
    assert {n for n in stubbed - helpers - public if not n.startswith("_")} == set()


def test_every_class_has_a_docstring():
    missing = []
    for name in dir(axon):
        cls = getattr(axon, name)
        if name.startswith("_") or not isinstance(cls, type):
            continue
        if not (cls.__doc__ or "").strip():
            missing.append(name)
    assert missing == []
