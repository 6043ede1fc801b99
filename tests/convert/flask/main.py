from flask import Flask, request, jsonify
app = Flask(__name__)

@app.route('/')
def hello():
    return "Hello World!"

@app.route('/users/<int:id>')
def get_user(id):
    return jsonify({"id": id, "name": "Alice"})
