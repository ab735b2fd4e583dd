"""Every boundary, fed whatever hypothesis makes up: the flag parsers, the checkpoint sidecar and
saved config, the MNIST readers, the image intake and the web API. A user's mistake must end as
one UserError (exit 2 at the CLI) or a 4xx, never another exception or a 5xx."""

import io
import json

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from neuralab.backprop.network import BackpropConfig, parse_list
from neuralab.calc.config import CalcConfig
from neuralab.calc.layout import Layout
from neuralab.calc.models import SymbolicCalc
from neuralab.calc.predict import compose
from neuralab.core import mnist
from neuralab.core.errors import UserError
from neuralab.core.images import read_gray
from neuralab.core.runs import config_from, load_checkpoint, save_checkpoint
from neuralab.depth.plan import make_plan
from neuralab.web.app import Limits, create_app
from neuralab.web.reader import DigitReader

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,   # the same examples on every CI run
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                           | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)


def refused_or_fine(call):
    """Run `call`; a UserError is a proper refusal, anything else it raises fails the test."""
    try:
        return call()
    except UserError as e:
        assert str(e) and "\n" not in str(e)
        return None


@SETTINGS
@given(st.text(max_size=40))
def test_flag_parsers_refuse_or_accept(text):
    refused_or_fine(lambda: make_plan(depths=text))
    refused_or_fine(lambda: make_plan(activations=text))
    refused_or_fine(lambda: make_plan(variants=[text]))
    weights = refused_or_fine(lambda: parse_list(text, "--weights"))
    if weights is not None:
        refused_or_fine(lambda: BackpropConfig(activations=["relu"] * len(weights), weights=weights))


@SETTINGS
@given(st.text(max_size=30))
def test_compose_refuses_or_gives_one_stack_per_number(text):
    y = np.arange(10)
    data = mnist.MNIST(np.zeros((10, 28, 28), np.uint8), y, np.zeros((10, 28, 28), np.uint8), y, "fake", "0" * 64)
    groups = refused_or_fine(lambda: compose(text, 0, data))
    if groups is not None:
        assert [len(g) for g in groups] == [len(n) for n in text.replace(" ", "").split("+")]


@SETTINGS
@given(st.dictionaries(st.sampled_from(sorted(CalcConfig.__dataclass_fields__) + ["extra"]), json_values))
def test_a_saved_config_becomes_a_valid_config_or_one_line(saved):
    config = refused_or_fine(lambda: config_from(saved, CalcConfig, "ckpt"))
    if config is not None:
        assert isinstance(config, CalcConfig) and config.layout.slots >= 2


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    return save_checkpoint(tmp_path_factory.mktemp("c") / "c", torch.nn.Linear(2, 2), kind="calc", config=CalcConfig())


@SETTINGS
@given(json_values)
def test_any_sidecar_loads_or_is_refused(checkpoint, sidecar):
    checkpoint.with_suffix(".json").write_text(json.dumps(sidecar))
    refused_or_fine(lambda: load_checkpoint(checkpoint, "calc"))


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes_as_mnist_or_a_picture_are_read_or_refused(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("bytes")
    (folder / "mnist.npz").write_bytes(data)
    refused_or_fine(lambda: mnist.read_npz(folder / "mnist.npz"))
    (folder / "train-images-idx3-ubyte").write_bytes(data)
    refused_or_fine(lambda: mnist.read_idx(folder / "train-images-idx3-ubyte"))
    picture = refused_or_fine(lambda: read_gray(data, "upload"))
    if picture is not None:
        assert picture.ndim == 2 and picture.dtype == np.float32


@SETTINGS
@given(st.integers(1, 300), st.integers(1, 300), st.sampled_from(["1", "L", "LA", "P", "RGB", "RGBA", "I;16", "CMYK"]))
def test_any_small_picture_is_read_as_grey(width, height, mode):
    buf = io.BytesIO()
    Image.new(mode, (width, height)).save(buf, format="TIFF" if mode in ("I;16", "CMYK") else "PNG")
    picture = read_gray(buf.getvalue(), "upload")
    assert picture.shape == (height, width) and 0 <= picture.min() <= picture.max() <= 1


@pytest.fixture(scope="module")
def client():
    torch.manual_seed(0)
    reader = DigitReader(SymbolicCalc(Layout("expression", 5, 2, "noise")).eval())
    return TestClient(create_app(reader, Limits(max_body_bytes=100_000, max_digits=4, max_numbers=3)),
                      raise_server_exceptions=False)


@SETTINGS
@given(json_values | st.text(max_size=40), st.sampled_from(["/api/read", "/api/sum", "/api/picture"]))
def test_the_api_answers_any_body_with_a_4xx_or_an_answer(client, body, path):
    raw = body if isinstance(body, str) else json.dumps(body)   # text too: "NaN", "{", any garbage
    response = client.post(path, content=raw.encode(), headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        detail = response.json()["detail"]
        assert isinstance(detail, str) and "\n" not in detail
