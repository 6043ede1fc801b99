from bottle import Bottle, redirect, request, response

app = Bottle()


@app.get("/")
def hello():
    return "Hello from Bottle!"


@app.get("/users/<id:int>")
def user(id):
    return {"id": id, "tags": request.query.getall("tag"), "verbose": request.query.get("verbose")}


@app.post("/echo")
def echo():
    return {"received": request.json}


@app.post("/form")
def form():
    return {"name": request.forms.getunicode("name"), "tags": request.forms.getall("tag")}


@app.get("/boom")
def boom():
    raise RuntimeError("this view fails on purpose")


@app.get("/stream")
def stream():
    response.content_type = "text/plain"
    for i in range(3):
        yield f"{i}\n"


@app.get("/redirect")
def go():
    redirect("/")


@app.get("/cookie")
def cookie():
    response.set_cookie("flavor", "oatmeal")
    return "cookie set"


@app.get("/cookie-read")
def cookie_read():
    return {"flavor": request.get_cookie("flavor")}
