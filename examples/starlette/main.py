import asyncio

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, StreamingResponse
from starlette.routing import Route


async def hello(request):
    return PlainTextResponse("Hello from Starlette!")


async def user(request):
    query = request.query_params
    return JSONResponse({"id": request.path_params["id"], "tags": query.getlist("tag"), "verbose": query.get("verbose")})


async def echo(request):
    return JSONResponse({"received": await request.json()})


async def form(request):
    data = await request.form()
    return JSONResponse({"name": data.get("name"), "tags": data.getlist("tag")})


async def boom(request):
    raise RuntimeError("this view fails on purpose")


async def stream(request):
    async def numbers():
        for i in range(3):
            yield f"{i}\n"
            await asyncio.sleep(0.01)

    return StreamingResponse(numbers(), media_type="text/plain")


async def go(request):
    return RedirectResponse("/", status_code=302)


async def cookie(request):
    response = PlainTextResponse("cookie set")
    response.set_cookie("flavor", "oatmeal")
    return response


async def cookie_read(request):
    return JSONResponse({"flavor": request.cookies.get("flavor")})


app = Starlette(
    routes=[
        Route("/", hello),
        Route("/users/{id:int}", user),
        Route("/echo", echo, methods=["POST"]),
        Route("/form", form, methods=["POST"]),
        Route("/boom", boom),
        Route("/stream", stream),
        Route("/redirect", go),
        Route("/cookie", cookie),
        Route("/cookie-read", cookie_read),
    ],
    # Requests must name this machine in their Host header.
    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])],
)
