from quart import Quart, jsonify, make_response, redirect, request

app = Quart(__name__)


@app.route("/")
async def hello():
    return "Hello from Quart!"


@app.route("/users/<int:id>")
async def user(id):
    return jsonify(id=id, tags=request.args.getlist("tag"), verbose=request.args.get("verbose"))


@app.route("/echo", methods=["POST"])
async def echo():
    return jsonify(received=await request.get_json())


@app.route("/form", methods=["POST"])
async def form():
    data = await request.form
    return jsonify(name=data.get("name"), tags=data.getlist("tag"))


@app.route("/boom")
async def boom():
    raise RuntimeError("this view fails on purpose")


@app.route("/stream")
async def stream():
    async def numbers():
        for i in range(3):
            yield f"{i}\n".encode()

    return numbers(), 200, {"Content-Type": "text/plain"}


@app.route("/redirect")
async def go():
    return redirect("/")


@app.route("/cookie")
async def cookie():
    response = await make_response("cookie set")
    response.set_cookie("flavor", "oatmeal")
    return response


@app.route("/cookie-read")
async def cookie_read():
    return jsonify(flavor=request.cookies.get("flavor"))
