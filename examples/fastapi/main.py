from typing import List, Optional

from fastapi import Cookie, Depends, FastAPI, Form, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel

app = FastAPI(title="fabricks FastAPI example")


class Item(BaseModel):
    name: str
    price: float
    tags: List[str] = []


def settings():
    return {"currency": "EUR"}


def pagination(limit: int = 10, offset: int = 0):
    return {"limit": limit, "offset": offset}


@app.api_route("/", methods=["GET", "HEAD"], response_class=PlainTextResponse)
def hello():
    return "Hello from FastAPI!"


@app.get("/users/{id}")
async def user(id: int, tag: List[str] = Query(default=[]), verbose: Optional[str] = None):
    return {"id": id, "tags": tag, "verbose": verbose}


@app.post("/echo")
async def echo(request: Request):
    return {"received": await request.json()}


@app.post("/form")
async def form(name: str = Form(...), tag: List[str] = Form(default=[])):
    return {"name": name, "tags": tag}


@app.get("/boom")
def boom():
    raise RuntimeError("this view fails on purpose")


@app.get("/stream")
def stream():
    return StreamingResponse((f"{i}\n" for i in range(3)), media_type="text/plain")


@app.get("/redirect")
def go():
    return RedirectResponse("/")


@app.get("/cookie")
def cookie():
    response = PlainTextResponse("cookie set")
    response.set_cookie("flavor", "oatmeal")
    return response


@app.get("/cookie-read")
def cookie_read(flavor: Optional[str] = Cookie(default=None)):
    return {"flavor": flavor}


@app.post("/items")
def create_item(item: Item, config: dict = Depends(settings)):
    return {"item": item.dict(), "currency": config["currency"]}


@app.get("/items")
async def list_items(page: dict = Depends(pagination)):
    return page
