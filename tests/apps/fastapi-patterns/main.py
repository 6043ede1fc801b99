"""FastAPI's documented patterns that read files or clean up after a
request: a dependency with `yield`, `FileResponse`, a `StaticFiles` mount by
a path relative to the app's folder, a header parameter."""

from typing import Optional

from fastapi import Depends, FastAPI, Header
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

app = FastAPI()
app.mount("/static", StaticFiles(directory="static"), name="static")

EVENTS = []


def session():
    EVENTS.append("open")
    try:
        yield {"db": "session"}
    finally:
        EVENTS.append("close")


@app.get("/items")
async def items(db=Depends(session)):
    return {"db": db["db"], "events": list(EVENTS)}


@app.get("/file")
def file():
    return FileResponse("static/hello.txt")


@app.get("/agent")
def agent(user_agent: Optional[str] = Header(None)):
    return {"user_agent": user_agent}
