"""The calculator web app: API answers match the model and exact integer sums; every bad request
is a one-line 4xx; the page, driven by mouse strokes in headless Chromium, shows the server's total."""

import base64
import contextlib
import io
import json
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from neuralab.calc.inputs import read_box
from neuralab.calc.layout import Layout
from neuralab.calc.models import SymbolicCalc
from neuralab.web.app import Limits, create_app
from neuralab.web.reader import DigitReader
from neuralab.web.serve import in_background

from .helpers import CHROMIUM, CHROMIUM_ARGS

LIMITS = Limits(max_body_bytes=200_000, max_digits=4, max_numbers=3)


def digit_images(count, seed=0):
    """Blob-like 28x28 'digits' in [0, 1]: a few bright strokes on black."""
    rng = np.random.default_rng(seed)
    out = np.zeros((count, 28, 28))
    for img in out:
        r, c = rng.integers(6, 18, 2)
        img[r:r + rng.integers(4, 10), c:c + 3] = 1.0
        img[r:r + 3, c:c + rng.integers(4, 10)] = 1.0
    return out


def png_url(gray01):
    buf = io.BytesIO()
    Image.fromarray((np.asarray(gray01) * 255).astype(np.uint8)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return SymbolicCalc(Layout("expression", 5, 2, "noise")).eval()


@pytest.fixture(scope="module")
def client(model):
    sampler = lambda n: (digit_images(n, seed=5) * 255).astype(np.uint8)  # noqa: E731
    return TestClient(create_app(DigitReader(model), LIMITS, sampler), raise_server_exceptions=False)


def model_digits(model, images_u8):
    with torch.no_grad():
        x = torch.from_numpy(images_u8).float().div(255).unsqueeze(1)
        return model.reader(x)[:, :10].argmax(-1).tolist()


def test_sum_of_arrays_matches_model_and_exact_integers(client, model):
    numbers = [digit_images(3, seed=1), digit_images(2, seed=2), digit_images(4, seed=3)]
    response = client.post("/api/sum", json={"numbers": [{"digits": n.tolist()} for n in numbers]})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = [int("".join(map(str, model_digits(model, np.rint(n * 255).astype(np.uint8))))) for n in numbers]
    assert [n["number"] for n in body["numbers"]] == expected
    assert body["running"] == [sum(expected[:k + 1]) for k in range(3)]
    assert all(0 < d["probability"] <= 1 for n in body["numbers"] for d in n["digits"])


def test_png_digit_uses_the_calc_predict_preprocessing(client, model):
    images = digit_images(2, seed=4)
    response = client.post("/api/read", json={"digits": [png_url(1 - img) for img in images]})  # ink on paper
    assert response.status_code == 200, response.text
    prepared = np.stack([read_box(base64.b64decode(png_url(1 - img).split(",", 1)[1]), "box")[0] for img in images])
    assert [d["digit"] for d in response.json()["digits"]] == model_digits(model, prepared)


def test_random_gives_png_digits(client):
    response = client.get("/api/random?count=3")
    assert response.status_code == 200
    assert len(response.json()["digits"]) == 3 and all(u.startswith("data:image/png;base64,") for u in response.json()["digits"])


BAD = [
    ("malformed json", dict(content=b"{not json", headers={"content-type": "application/json"}), 422),
    ("missing field", dict(json={"digitz": []}), 422),
    ("not a data url", dict(json={"digits": ["hello"]}), 400),
    ("bad base64", dict(json={"digits": ["data:image/png;base64,@@@"]}), 400),
    ("not a png", dict(json={"digits": ["data:image/png;base64," + base64.b64encode(b"GIF89a...").decode()]}), 400),
    ("empty box", dict(json={"digits": [png_url(np.zeros((28, 28)))]}), 400),
    ("wrong array shape", dict(json={"digits": [[[0.5] * 27] * 28]}), 400),
    ("array out of range", dict(json={"digits": [[[2.0] * 28] * 28]}), 400),
    ("empty number", dict(json={"digits": []}), 400),
    ("blank array", dict(json={"digits": [[[0.0] * 28] * 28]}), 400),
    ("too many digits", dict(json={"digits": digit_images(5).tolist()}), 400),
    ("body too large", dict(content=b"x" * 300_000, headers={"content-type": "application/json"}), 413),
]


@pytest.mark.parametrize("name,request_kwargs,status", BAD, ids=[b[0] for b in BAD])
def test_bad_read_requests_are_one_line_4xx(client, name, request_kwargs, status):
    response = client.post("/api/read", **request_kwargs)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail


def test_too_many_numbers_and_empty_sum(client):
    one = {"digits": digit_images(1).tolist()}
    assert client.post("/api/sum", json={"numbers": [one] * 4}).status_code == 400
    assert "at most 3" in client.post("/api/sum", json={"numbers": [one] * 4}).json()["detail"]
    assert client.post("/api/sum", json={"numbers": []}).status_code == 400


def test_openapi_docs_and_page_are_served(client):
    assert client.get("/docs").status_code == 200
    assert "/api/sum" in client.get("/openapi.json").json()["paths"]
    assert 'id="total"' in client.get("/").text and client.get("/static/app.js").status_code == 200


def test_one_request_decodes_a_bounded_number_of_pixels(model):
    budget = TestClient(create_app(DigitReader(model), Limits(max_request_pixels=100_000)), raise_server_exceptions=False)
    box = png_url(np.pad(digit_images(1)[0], 136))                    # 300 x 300: 90,000 pixels
    assert budget.post("/api/read", json={"digits": [box]}).status_code == 200
    refused = budget.post("/api/read", json={"digits": [box, box]})
    assert refused.status_code == 400 and refused.json()["detail"].startswith("digits[1]: ")   # the request's own field
    assert "more than the 10000 allowed" in refused.json()["detail"]   # what is left of the budget


@pytest.mark.parametrize("name", ["nope.js", ".css", "..js", "%00.js", "x" * 5000 + ".js", "index.html"])
def test_static_answers_404_for_any_other_name(client, name):
    response = client.get(f"/static/{name}")
    assert response.status_code == 404 and "no such file" in response.json()["detail"]


def _raw_post(url: str, head: bytes, body_parts, wait: float = 10.0) -> bytes:
    """Send a request's head and body parts over a socket, then read what the server answers."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
        answer = b""
        while chunk := sock.recv(65536):   # the refusal closes the connection
            answer += chunk
        return answer


def test_a_chunked_body_is_refused_as_it_streams_past_the_limit(model):
    """The 413 comes while the body is still arriving: the server never waits for (or holds) all of it."""
    with in_background(create_app(DigitReader(model), LIMITS)) as url:
        head = b"POST /api/sum HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunk = b"%x\r\n%s\r\n" % (100_001, b"x" * 100_001)
        answer = _raw_post(url, head, [chunk] * 2)     # just past the limit of an endless body: no last chunk
    assert answer.startswith(b"HTTP/1.1 413") and b"body too large" in answer


def test_a_request_head_that_does_not_arrive_in_time_is_closed(model, monkeypatch):
    from neuralab.web import serve

    monkeypatch.setattr(serve, "HEADER_SECONDS", 0.5)
    with in_background(create_app(DigitReader(model), LIMITS)) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHo")              # half a head, then nothing
            assert sock.recv(1024) == b""   # closed by the server, long before the client's 5 s timeout


def test_a_body_that_does_not_arrive_in_time_gets_408(model):
    with in_background(create_app(DigitReader(model), Limits(body_seconds=0.5))) as url:
        head = b"POST /api/sum HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        answer = _raw_post(url, head, [b'{"numbers": '])
    assert answer.startswith(b"HTTP/1.1 408") and b"not received within 0.5 s" in answer


@contextlib.contextmanager
def served_page(app, sent: list):
    """The app on a free loopback port and a Chromium page on it; `sent` collects /api/ request bodies."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium (make test does this)"
    with in_background(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("request", lambda r: sent.append((r.url.rsplit("/", 1)[-1], r.post_data_json))
                if "/api/" in r.url and r.method == "POST" else None)
        page.goto(f"{base}/")
        yield page
        browser.close()


def draw(page, selector: str, strokes, index: int = 0):
    """Mouse strokes in fractions of the canvas (x, y)."""
    box = page.locator(selector).nth(index).bounding_box()
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0] * box["width"], box["y"] + stroke[0][1] * box["height"])
        page.mouse.down()
        for fx, fy in stroke[1:]:
            page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"], steps=8)
        page.mouse.up()


@pytest.mark.browser
def test_page_shows_each_box_as_read_adds_twice_and_shows_the_server_total(tmp_path, model):
    app = create_app(DigitReader(model), Limits())
    sent = []
    with served_page(app, sent) as page:
        strokes = [[(0.3, 0.2), (0.7, 0.2), (0.4, 0.8)], [(0.5, 0.15), (0.5, 0.85)], [(0.3, 0.3), (0.7, 0.7)]]
        added = []
        for boxes_used in ((0, 1), (2,)):
            for i, stroke in zip(boxes_used, strokes):
                draw(page, "canvas.box", [stroke], i)
                page.wait_for_function(f"document.querySelectorAll('.reading')[{i}].textContent !== ''")
            shown = [page.locator(".reading").nth(i).inner_text() for i in boxes_used]
            page.click("#add")
            page.wait_for_function(f"document.querySelectorAll('#tape li').length === {len(added) + 1}")
            added.append(sent[-1][1])                   # the add is the last request: live reads come first
            assert sent[-1][0] == "read" and all(" · " in text and text.endswith("%") for text in shown)
            live = [int(text.split(" · ")[0]) for text in shown]
            assert [d["digit"] for d in TestClient(app).post("/api/read", json=added[-1]).json()["digits"]] == live
        total = int(page.inner_text("#total"))
        page.screenshot(path=str(tmp_path / "calculator.png"), full_page=True)
    answer = TestClient(app).post("/api/sum", json={"numbers": added}).json()
    assert [len(s["digits"]) for s in added] == [2, 1]
    assert total == answer["running"][-1]
    assert (tmp_path / "calculator.png").stat().st_size > 0


@pytest.mark.browser
def test_page_reads_a_number_written_freely_in_the_wide_box(model):
    app = create_app(DigitReader(model), Limits(doubt=0.0))
    sent = []
    with served_page(app, sent) as page:
        # three uprights close together, then a wide gap, then two more: the numbers "111" and "11"
        uprights = [[(x, 0.2), (x, 0.8)] for x in (0.1, 0.16, 0.22, 0.6, 0.66)]
        draw(page, "#wide", uprights)
        page.click("#read-wide")
        page.wait_for_function("document.querySelectorAll('#tape li').length === 2")
        assert sent[-1][0] == "picture"
        body = TestClient(app).post("/api/picture", json=sent[-1][1]).json()
        assert [len(n["digits"]) for n in body["numbers"]] == [3, 2]
        assert int(page.inner_text("#total")) == body["running"][-1]
        assert page.evaluate("document.getElementById('found').width") > 0


@pytest.mark.browser
def test_page_reads_a_photo_upload(tmp_path, model):
    from .test_segment import page_of

    photo = tmp_path / "sum.png"
    Image.fromarray((page_of([12, 345]).image * 255).astype(np.uint8)).save(photo)
    app = create_app(DigitReader(model), Limits(doubt=0.0))       # the untrained model's readings, all kept
    sent = []
    with served_page(app, sent) as page:
        page.set_input_files("#photo", str(photo))
        page.wait_for_function("document.querySelectorAll('#tape li').length === 2")
        digits = [page.locator("#tape li").nth(i).locator(".digit").count() for i in range(2)]
        assert digits == [2, 3]
        assert sent[-1][0] == "picture" and sent[-1][1]["picture"].startswith("data:image/jpeg;base64,")
        body = TestClient(app).post("/api/picture", json=sent[-1][1]).json()
        assert int(page.inner_text("#total")) == body["running"][-1]


@pytest.mark.browser
def test_a_digit_tapped_on_the_photo_is_corrected_and_the_total_follows(tmp_path, model):
    from .test_segment import page_of

    photo = tmp_path / "sum.png"
    Image.fromarray((page_of([12, 345]).image * 255).astype(np.uint8)).save(photo)
    app = create_app(DigitReader(model), Limits(doubt=0.0))     # the untrained model's readings, all kept
    with served_page(app, []) as page:
        page.set_input_files("#photo", str(photo))
        page.wait_for_function("document.querySelectorAll('#tape li').length === 2")
        before = int(page.inner_text("#total"))
        first = page.locator("#tape li").nth(0).locator(".digit").nth(0).inner_text().split()[0]
        numbers = page.evaluate("found.numbers.map((n) => n.digits.map((d) => d.box))")
        x0, y0, x1, y1 = numbers[0][0]                          # the first digit of 12, in picture pixels
        scale = page.evaluate("found.scale")
        page.locator("#found").click(position={"x": (x0 + x1) / 2 * scale, "y": (y0 + y1) / 2 * scale})
        assert page.is_visible("#picker")
        wanted = 1 if first != "1" else 7
        page.locator("button.pick").nth(wanted).click()
        page.wait_for_function(f"document.getElementById('total').textContent !== '{before}'")
        after = int(page.inner_text("#total"))
        assert after - before == (wanted - int(first)) * 10            # the tens digit of the first number
        assert page.locator("#tape li").nth(0).locator(".digit").nth(0).inner_text().startswith(str(wanted))


def test_a_picture_of_mostly_doubtful_marks_gets_no_sum(model):
    from .test_segment import page_of

    buf = io.BytesIO()
    Image.fromarray((page_of([12, 345]).image * 255).astype(np.uint8)).save(buf, format="PNG")
    picture = {"picture": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()}
    strict = TestClient(create_app(DigitReader(model), Limits(doubt=1.01)), raise_server_exceptions=False)
    refused = strict.post("/api/picture", json=picture)
    assert refused.status_code == 400 and "not digits the reader trusts" in refused.json()["detail"]
    lenient = TestClient(create_app(DigitReader(model), Limits(doubt=0.0)), raise_server_exceptions=False)
    read = lenient.post("/api/picture", json=picture).json()
    assert [len(n["digits"]) for n in read["numbers"]] == [2, 3]
    assert not any(d["doubtful"] for n in read["numbers"] for d in n["digits"])


@pytest.mark.mnist
def test_mnist_test_digits_sent_as_pngs_are_read_as_their_labels(fixture_checkpoint, digits_read_right):
    """Against the truth, not against the same code: a reader trained on MNIST-train gets MNIST-test
    digits drawn as dark ink on white PNGs, and the sums must be the exact sums of the written numbers."""
    from neuralab.calc.evaluate import load_model

    reader, _, _ = load_model(fixture_checkpoint, device="cpu")
    client = TestClient(create_app(DigitReader(reader), LIMITS), raise_server_exceptions=False)
    rng = np.random.default_rng(0)
    numbers = [294, 61, 7085]
    digits = [[digits_read_right[int(c)][rng.integers(len(digits_read_right[int(c)]))] for c in str(n)]
              for n in numbers]
    response = client.post("/api/sum", json={"numbers": [{"digits": [png_url(1 - d / 255) for d in ds]}
                                                         for ds in digits]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [n["number"] for n in body["numbers"]] == numbers
    assert body["running"] == [294, 355, 7440]


class SlowReader(DigitReader):
    """A reader that holds its worker until the test lets it go."""

    def __init__(self, model, release):
        super().__init__(model)
        self.release = release

    def read(self, groups, ceilings=None):
        self.release.wait(10)
        return super().read(groups, ceilings)


def test_requests_beyond_the_workers_and_queue_get_503_with_retry_after(model):
    import threading

    import httpx

    release = threading.Event()
    app = create_app(SlowReader(model, release), Limits(workers=1, queue=1, retry_after=3))
    body = {"numbers": [{"digits": digit_images(2).tolist()}]}
    with in_background(app) as base, httpx.Client(base_url=base, timeout=20) as http:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(3) as pool:
            held = [pool.submit(http.post, "/api/sum", json=body) for _ in range(2)]   # one read, one waiting
            for _ in range(1000):                                 # at most 10 s for both to reach the pool
                if app.state.gate.taken >= 2:
                    break
                threading.Event().wait(0.01)
            refused = http.post("/api/sum", json=body)
            release.set()
            answered = [f.result() for f in held]
    assert refused.status_code == 503 and refused.headers["retry-after"] == "3"
    assert "try again in 3 s" in refused.json()["detail"]
    assert [r.status_code for r in answered] == [200, 200]


def test_a_picture_not_read_within_the_deadline_is_a_422(model):
    slow = TestClient(create_app(DigitReader(model), Limits(read_seconds=0.0)), raise_server_exceptions=False)
    picture = png_url(np.pad(digit_images(1)[0], 60))
    response = slow.post("/api/picture", json={"picture": picture})
    assert response.status_code == 422 and "not read in the time allowed" in response.json()["detail"]


def test_serve_restarts_on_the_port_it_just_used(monkeypatch):
    """A server that closed its side of a connection leaves the port in TIME_WAIT; uvicorn binds it anyway
    (SO_REUSEADDR), and so does the port check before it."""
    import socket

    import uvicorn

    from neuralab.web import serve

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()          # the server closes first: its side of the connection waits in TIME_WAIT
    listener.close()
    client.close()
    ran = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: ran.append(self.config.port))
    serve.serve(None, "127.0.0.1", port)
    assert ran == [port]


ARRAY = [[0.5] * 28 for _ in range(28)]
FIELD_FAULTS = [   # /api/read's digits: each message names the request's own field and the real fault
    ({"digits": [[[float("nan")] * 28] * 28]}, "digits[0]: holds NaN or infinity; values must lie in [0, 1]"),
    ({"digits": [[[[0.5]] * 28] * 28]}, "digits[0][0][0]: [0.5] is not a number"),
    ({"digits": [[["0.5"] * 28] * 28]}, "digits[0][0][0]: '0.5' is not a number"),
    ({"digits": [ARRAY[:3] + [[True] * 28] + ARRAY[4:]]}, "digits[0][3][0]: True is not a number"),
    ({"digits": [[[0.5] * 27] * 28]}, "digits[0]: must be a picture data URL or 28 rows of 28 numbers"),
    ({"digits": [7]}, "digits[0]: must be a picture data URL or 28 rows of 28 numbers, got int"),
    ({"digits": [[[2.0] * 28] * 28]}, "digits[0]: values must lie in [0, 1], found 2 to 2"),
    ({"digits": ["data:image/png;base64," + base64.b64encode(b"not a png at all").decode()]},
     "digits[0]: not a readable image (UnidentifiedImageError: cannot identify image file the data)"),
    ({"digits": [ARRAY] * 13}, "digits: 13 digits, at most 4"),   # the test client's limit
]


@pytest.mark.parametrize("body, detail", FIELD_FAULTS, ids=[d.split(":")[0] + str(i) for i, (_, d) in enumerate(FIELD_FAULTS)])
def test_read_errors_name_the_requests_field_and_the_real_fault(client, body, detail):
    response = client.post("/api/read", content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["detail"] == detail
    if "numbers" not in detail:
        summed = client.post("/api/sum", content=json.dumps({"numbers": [body]}), headers={"content-type": "application/json"})
        assert summed.json()["detail"] == detail.replace("digits", "numbers[0].digits", 1).replace(
            "numbers[0].digits: 13", "numbers[0]: 13")
