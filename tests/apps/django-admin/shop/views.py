from django.http import HttpResponse


def products(request):
    return HttpResponse("products page")


def boom(request):
    raise RuntimeError("this view fails on purpose")
