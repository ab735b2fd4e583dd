"""The calculator's web app: one page and a JSON API (FastAPI), served by uvicorn.

Every bad request gets a 4xx with a one-line `detail`; the handlers never let an exception
become a 500. Limits bound the body size, the digits per number and the numbers per request.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from importlib import resources
from typing import Union

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from PIL import Image
from pydantic import BaseModel, Field

from neuralab.core.errors import UserError
from neuralab.web.reader import DigitReader, decode_digit, decode_picture

Digit = Union[str, list[list[float]]]


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 2_000_000      # ~60 drawn boxes as PNG data URLs; far above any honest use
    max_digits: int = 12                 # numbers up to 10^12 - 1: more than a row of boxes holds
    max_numbers: int = 20                # a tape of 20 numbers per request


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


def create_app(reader: DigitReader, limits: Limits = Limits(), random_digits=None) -> FastAPI:
    """`random_digits(count) -> (count, 28, 28) uint8` feeds the "Random from MNIST" button."""
    app = FastAPI(title="neuralab calculator", description="Handwritten numbers in, their running sum out.")

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limits.max_body_bytes):
            return JSONResponse({"detail": f"body too large (limit {limits.max_body_bytes} bytes)"}, 413)
        body = await request.body()   # also bounds bodies sent without a length
        if len(body) > limits.max_body_bytes:
            return JSONResponse({"detail": f"body too large (limit {limits.max_body_bytes} bytes)"}, 413)
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid request", "loc": ()}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        return JSONResponse({"detail": _one_line(f"{where}: {first.get('msg')}")}, 422)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        return JSONResponse({"detail": _one_line(str(exc))}, 400)

    def check_counts(counts: list[int], where: str) -> None:
        if not counts:
            raise UserError(f"{where}: give at least one number")
        if len(counts) > limits.max_numbers:
            raise UserError(f"{where}: {len(counts)} numbers, at most {limits.max_numbers} per request")
        for i, count in enumerate(counts):
            if count == 0:
                raise UserError(f"{where}[{i}]: empty number (no digit images)")
            if count > limits.max_digits:
                raise UserError(f"{where}[{i}]: {count} digits, at most {limits.max_digits}")

    def answer(groups: list[np.ndarray], boxes=None) -> SumOut:
        read = reader.read(groups)
        boxes = boxes or [[None] * len(g) for g in groups]
        numbers = [NumberOut(digits=[DigitOut(digit=int(d), probability=p, box=b) for d, p, b in zip(r, ps, bs)],
                             number=n)
                   for r, ps, bs, n in zip(read.readings, read.probabilities, boxes, read.numbers)]
        return SumOut(numbers=numbers, running=read.running)

    def read_numbers(numbers: list[NumberIn]) -> SumOut:
        check_counts([len(n.digits) for n in numbers], "numbers")
        return answer([np.stack([decode_digit(d, f"numbers[{i}].digits[{j}]") for j, d in enumerate(n.digits)])
                       for i, n in enumerate(numbers)])

    @app.post("/api/read", response_model=NumberOut, summary="Read one number's digit images")
    def read(number: NumberIn) -> NumberOut:
        return read_numbers([number]).numbers[0]

    @app.post("/api/sum", response_model=SumOut, summary="Read numbers and give their running totals")
    def total(request: SumIn) -> SumOut:
        return read_numbers(request.numbers)

    @app.post("/api/picture", response_model=SumOut, summary="Find the numbers in a picture, read them, add them")
    def picture(request: PictureIn) -> SumOut:
        groups = decode_picture(request.picture, "picture")
        check_counts([len(g.images) for g in groups], "picture: numbers")
        return answer([g.images for g in groups], [g.boxes for g in groups])

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
        media = {"js": "text/javascript", "css": "text/css"}.get(name.rsplit(".", 1)[-1])
        if media is None or "/" in name:
            return JSONResponse({"detail": f"{name}: no such file"}, 404)
        return Response(_static(name), media_type=media)

    return app


def _static(name: str) -> str:
    return resources.files("neuralab.web").joinpath("static", name).read_text()


def png_data_url(image: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
