"""FastAPI's documented patterns that read files, clean up after a request or
check what a client sends: a dependency with `yield`, `FileResponse`, a
`StaticFiles` mount by a path relative to the app's folder, Jinja2 templates
linking to that mount, header parameters and a header model that forbids
extra headers, an OAuth2 password flow with JWT bearer tokens (PyJWT,
HS256), and endpoints that await other services with httpx.AsyncClient."""

import asyncio
import hashlib
import hmac
import time
from datetime import datetime, timedelta, timezone
from typing import Optional

import httpx
import jwt
from fastapi import Depends, FastAPI, Header, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

app = FastAPI()
app.mount("/static", StaticFiles(directory="static"), name="static")
templates = Jinja2Templates(directory="templates")

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


@app.get("/items/{item_id}", response_class=HTMLResponse)
async def item_page(request: Request, item_id: str):
    return templates.TemplateResponse(request, "item.html", {"item_id": item_id})


@app.get("/file")
def file():
    return FileResponse("static/hello.txt")


@app.get("/agent")
def agent(user_agent: Optional[str] = Header(None)):
    return {"user_agent": user_agent}


class TraceHeaders(BaseModel):
    """Only these headers may come with the request (a client sending any
    other gets a 422)."""

    host: str
    connection: Optional[str] = None
    user_agent: Optional[str] = None
    x_trace: str

    class Config:
        extra = "forbid"


@app.get("/trace")
def trace(headers: TraceHeaders = Header()):
    return {"x_trace": headers.x_trace, "user_agent": headers.user_agent}


# OAuth2 with a password and JWT bearer tokens. The salted SHA-256 stands in
# for a password hasher: this app is about the token flow.
SECRET_KEY = "a-test-secret-of-this-app"
ALGORITHM = "HS256"
SALT = b"fabricks"
USERS = {"ann": {"full_name": "Ann Example", "password_hash": hashlib.sha256(SALT + b"secret").hexdigest()}}

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


@app.post("/token")
def login(form: OAuth2PasswordRequestForm = Depends()):
    user = USERS.get(form.username)
    given = hashlib.sha256(SALT + form.password.encode()).hexdigest()
    if user is None or not hmac.compare_digest(given, user["password_hash"]):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Incorrect username or password", {"WWW-Authenticate": "Bearer"})
    expires = datetime.now(timezone.utc) + timedelta(minutes=30)
    token = jwt.encode({"sub": form.username, "exp": expires}, SECRET_KEY, algorithm=ALGORITHM)
    return {"access_token": token, "token_type": "bearer"}


def current_user(token: str = Depends(oauth2_scheme)):
    unauthorized = HTTPException(status.HTTP_401_UNAUTHORIZED, "Could not validate credentials", {"WWW-Authenticate": "Bearer"})
    try:
        username = jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM]).get("sub")
    except jwt.InvalidTokenError:
        raise unauthorized
    if username not in USERS:
        raise unauthorized
    return {"username": username, "full_name": USERS[username]["full_name"]}


@app.get("/users/me")
def me(user=Depends(current_user)):
    return user


@app.get("/fan-out")
async def fan_out(url: str, delays: str = "1000,1000,1000"):
    """Several calls to another service at once, as FastAPI apps make them."""
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=10) as client:
        answers = await asyncio.gather(*(client.get(f"{url}/delay/{delay}") for delay in delays.split(",")))
    return {"answers": [a.text for a in answers], "seconds": round(time.monotonic() - started, 3)}


@app.get("/upstream/{path:path}")
async def upstream(path: str, url: str):
    """Another service's answer, passed on."""
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(f"{url}/{path}")
    return HTMLResponse(answer.text, status_code=answer.status_code)
