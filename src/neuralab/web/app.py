"""The calculator's web app: one page and a JSON API (FastAPI), served by uvicorn.

Every bad request gets a 4xx with a one-line `detail`; the handlers never let an exception
become a 500. Limits bound the body size, the digits per number and the numbers per request.
"""

from __future__ import annotations

import asyncio
import base64
import io
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from PIL import Image
from pydantic import BaseModel, Field, WithJsonSchema

from neuralab.calc.predict import DOUBT
from neuralab.core.deadline import TooSlow
from neuralab.core.errors import UserError
from neuralab.web.gate import Busy, Gate
from neuralab.web.reader import DigitReader, decode_digit, decode_picture

# checked by `decode_digit`, so that a fault is named in the request's own terms; the docs show the two forms
Digit = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {
    "type": "array", "items": {"type": "number"}, "minItems": 28, "maxItems": 28}, "minItems": 28, "maxItems": 28}]})]
STATIC = {"app.js": "text/javascript", "style.css": "text/css"}   # every file /static/ serves


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 2_000_000      # ~60 drawn boxes as PNG data URLs; far above any honest use
    max_digits: int = 12                 # numbers up to 10^12 - 1: more than a row of boxes holds
    max_numbers: int = 20                # a tape of 20 numbers per request
    body_seconds: float = 30.0           # a 2 MB body arrives in well under 30 s on any real link
    max_request_pixels: int = 16_000_000 # pixels decoded per request: one phone photo, or 240 boxes of 256x256
    workers: int = 2                     # requests read at once: one per core of a laptop
    queue: int = 48                      # requests waiting: 40 uploads at once are all served; more get 503
    read_seconds: float = 5.0            # a request's reading is refused (422) past this, once a worker has it
    retry_after: int = 2                 # seconds a 503 asks the client to wait
    doubt: float = DOUBT                 # a digit read less surely is doubtful; a picture of mostly such is refused


class NumberIn(BaseModel):
    digits: list[Digit] = Field(description="The number's digit images, most significant first: "
                                "PNG data URLs, or 28x28 arrays in [0, 1] (light ink on black).")


class SumIn(BaseModel):
    numbers: list[NumberIn]


class PictureIn(BaseModel):
    picture: str = Field(description="A picture data URL (PNG, JPEG, ...): a photo or scan of numbers, one "
                         "per line or in a row joined by '+', or the wide box in which a number was written.")


class DigitOut(BaseModel):
    digit: int
    probability: float
    doubtful: bool = Field(description="Read with a probability under the server's doubt threshold: worth a check")
    box: tuple[int, int, int, int] | None = Field(None, description="Where the digit was found in the "
                                                  "picture: (x0, y0, x1, y1) in pixels")


class NumberOut(BaseModel):
    digits: list[DigitOut]
    number: int


class SumOut(BaseModel):
    numbers: list[NumberOut]
    running: list[int]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class BodyGuard:
    """ASGI middleware: reads each request body as it streams in, at most `max_bytes` of it and
    within `seconds`, then hands the buffered body on. A longer body gets a 413 as soon as it
    passes the limit (chunked bodies too), a slower one a 408: memory per request stays bounded."""

    def __init__(self, app, max_bytes: int, seconds: float):
        self.app, self.max_bytes, self.seconds = app, max_bytes, seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(send, 413, f"body too large (limit {self.max_bytes} bytes)")
        chunks, size = [], 0
        try:
            async with asyncio.timeout(self.seconds):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunks.append(message.get("body", b""))
                    size += len(chunks[-1])
                    if size > self.max_bytes:
                        return await self._refuse(send, 413, f"body too large (limit {self.max_bytes} bytes)")
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            return await self._refuse(send, 408, f"request body not received within {self.seconds:g} s")
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send, status: int, detail: str) -> None:
        await JSONResponse({"detail": detail}, status, headers={"connection": "close"})(
            {"type": "http"}, None, send)


class Calculator:
    """What the API does with numbers, apart from HTTP: check their counts, read them, add them."""

    def __init__(self, reader: DigitReader, limits: Limits):
        self.reader, self.limits = reader, limits

    def check_counts(self, counts: list[int], where: str) -> None:
        if not counts:
            raise UserError(f"{where}: give at least one number")
        if len(counts) > self.limits.max_numbers:
            raise UserError(f"{where}: {len(counts)} numbers, at most {self.limits.max_numbers} per request")
        for i, count in enumerate(counts):
            number = "digits" if where == "digits" else f"{where}[{i}]"
            if count == 0:
                raise UserError(f"{number}: empty number (no digit images)")
            if count > self.limits.max_digits:
                raise UserError(f"{number}: {count} digits, at most {self.limits.max_digits}")

    def answer(self, groups: list[np.ndarray], boxes=None, where: str | None = None, ceilings=None) -> SumOut:
        """`where` names a picture: one whose marks are too doubtful gets no sum (`Answer.check_trusted`)."""
        read = self.reader.read(groups, ceilings)
        if where is not None:
            read.check_trusted(where, self.limits.doubt)
        boxes = boxes or [[None] * len(g) for g in groups]
        numbers = [NumberOut(digits=[DigitOut(digit=int(d), probability=p, doubtful=f, box=b)
                                     for d, p, f, b in zip(r, ps, fs, bs)], number=n)
                   for r, ps, fs, bs, n in zip(read.readings, read.probabilities, read.doubtful(self.limits.doubt),
                                               boxes, read.numbers)]
        return SumOut(numbers=numbers, running=read.running)

    def digits(self, numbers: list[NumberIn], one: bool = False) -> SumOut:
        """`one`: the request is one number (/api/read), whose fields are `digits[j]`, not `numbers[i].digits[j]`."""
        self.check_counts([len(n.digits) for n in numbers], "digits" if one else "numbers")
        budget, groups = self.limits.max_request_pixels, []
        for i, n in enumerate(numbers):
            images = []
            for j, d in enumerate(n.digits):   # every box's pixels count against one budget per request
                where = f"digits[{j}]" if one else f"numbers[{i}].digits[{j}]"
                if budget <= 0:
                    raise UserError(f"{where}: the request's pictures hold more than "
                                    f"{self.limits.max_request_pixels} pixels in all")
                image, pixels = decode_digit(d, where, budget)
                images.append(image)
                budget -= pixels
            groups.append(np.stack(images))
        return self.answer(groups)

    def picture(self, url: str) -> SumOut:
        groups = decode_picture(url, "picture", self.reader.judge)
        self.check_counts([len(g.images) for g in groups], "picture: numbers")
        return self.answer([g.images for g in groups], [g.boxes for g in groups], "picture", [g.ceilings for g in groups])


def _install_error_handlers(app: FastAPI, limits: Limits) -> None:
    """Every bad request ends as a 4xx with a one-line `detail`."""

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid request", "loc": ()}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        return JSONResponse({"detail": _one_line(f"{where}: {first.get('msg')}")}, 422)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        return JSONResponse({"detail": _one_line(str(exc))}, 422 if isinstance(exc, TooSlow) else 400)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy):
        return JSONResponse({"detail": f"the server is reading {limits.workers + limits.queue} requests; "
                             f"try again in {limits.retry_after} s"}, 503,
                            headers={"Retry-After": str(limits.retry_after)})


def create_app(reader: DigitReader, limits: Limits = Limits(), random_digits=None) -> FastAPI:
    """`random_digits(count) -> (count, 28, 28) uint8` feeds the "Random from MNIST" button."""
    app = FastAPI(title="neuralab calculator", description="Handwritten numbers in, their running sum out.")
    app.add_middleware(BodyGuard, max_bytes=limits.max_body_bytes, seconds=limits.body_seconds)
    _install_error_handlers(app, limits)
    calculator = Calculator(reader, limits)
    gate = app.state.gate = Gate(limits.workers, limits.queue, limits.read_seconds)   # every read goes through it

    @app.post("/api/read", response_model=NumberOut, summary="Read one number's digit images")
    async def read(number: NumberIn) -> NumberOut:
        return (await gate.run(calculator.digits, [number], True)).numbers[0]

    @app.post("/api/sum", response_model=SumOut, summary="Read numbers and give their running totals")
    async def total(request: SumIn) -> SumOut:
        return await gate.run(calculator.digits, request.numbers)

    @app.post("/api/picture", response_model=SumOut, summary="Find the numbers in a picture, read them, add them",
              responses={503: {"description": "every worker busy and the queue full: retry after Retry-After"}})
    async def picture(request: PictureIn) -> SumOut:
        return await gate.run(calculator.picture, request.picture)

    @app.get("/api/random", summary="MNIST-test digit images as PNG data URLs")
    def random(count: int = 3) -> dict:
        if random_digits is None:
            raise UserError("random digits are not available on this server")
        if not 1 <= count <= limits.max_digits:
            raise UserError(f"count: must be 1..{limits.max_digits}, got {count}")
        return {"digits": [png_data_url(image) for image in random_digits(count)]}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return _static("index.html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC:
            return JSONResponse({"detail": f"{name[:80]}: no such file"}, 404)
        return Response(_static(name), media_type=STATIC[name])

    return app


def _static(name: str) -> str:
    return resources.files("neuralab.web").joinpath("static", name).read_text()


def png_data_url(image: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
