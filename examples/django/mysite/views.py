import json

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt


def hello(request):
    return HttpResponse("Hello from Django!")


def user(request, id):
    return JsonResponse({"id": id, "tags": request.GET.getlist("tag"), "verbose": request.GET.get("verbose")})


@csrf_exempt
def echo(request):
    return JsonResponse({"received": json.loads(request.body)})


@csrf_exempt
def form(request):
    return JsonResponse({"name": request.POST.get("name"), "tags": request.POST.getlist("tag")})


def boom(request):
    raise RuntimeError("this view fails on purpose")


def stream(request):
    return StreamingHttpResponse((f"{i}\n" for i in range(3)), content_type="text/plain")


def redirect(request):
    return HttpResponseRedirect("/")


def cookie(request):
    response = HttpResponse("cookie set")
    response.set_cookie("flavor", "oatmeal")
    return response


def cookie_read(request):
    return JsonResponse({"flavor": request.COOKIES.get("flavor")})
