"""ONNX export: onnxruntime's outputs match PyTorch's (probabilities to 1e-5, totals exactly)."""

import numpy as np
import pytest
import torch

from neuralab.calc.export import ReadAndAdd
from neuralab.calc.layout import Layout
from neuralab.calc.models import SymbolicCalc
from neuralab.core.runs import save_checkpoint

from .helpers import run_cli

ort = pytest.importorskip("onnxruntime")


def test_exported_graph_matches_pytorch(tmp_path):
    torch.manual_seed(0)
    from neuralab.calc.config import CalcConfig

    config = CalcConfig(format="operands", digits=3, operands=2)
    model = SymbolicCalc(Layout("operands", 3, 2, "noise"), views=config.views, touch=True).eval()   # as the checkpoint reads
    ckpt = save_checkpoint(tmp_path / "c", model, kind="calc", config=config)
    result = run_cli(["calc", "export", "--checkpoint", str(ckpt), "--onnx", str(tmp_path / "calc.onnx")])
    assert result.exit_code == 0, result.stderr

    session = ort.InferenceSession(str(tmp_path / "calc.onnx"))
    images = torch.rand(4, 3, 3, 1, 28, 28)   # batch 4 and 3 numbers: both differ from the export example
    probs, running = session.run(None, {"images": images.numpy()})
    with torch.no_grad():
        ref_probs, ref_running = ReadAndAdd(model, 3).eval()(images)
    np.testing.assert_allclose(probs, ref_probs.numpy(), atol=1e-5, rtol=0)
    np.testing.assert_array_equal(running, ref_running.numpy())
    digits = ref_probs.argmax(-1).numpy()
    numbers = [[int("".join(map(str, d))) for d in row] for row in digits]
    assert running.tolist() == [np.cumsum(row).tolist() for row in numbers]   # exact integer sums


def test_export_refuses_bad_paths(tmp_path):
    result = run_cli(["calc", "export", "--checkpoint", str(tmp_path / "none.safetensors"), "--onnx", str(tmp_path / "x.txt")])
    assert result.exit_code == 2 and "must end in .onnx" in result.stderr
