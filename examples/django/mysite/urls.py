from django.urls import path

from . import views

urlpatterns = [
    path("", views.hello),
    path("users/<int:id>", views.user),
    path("echo", views.echo),
    path("form", views.form),
    path("boom", views.boom),
    path("stream", views.stream),
    path("redirect", views.redirect),
    path("cookie", views.cookie),
    path("cookie-read", views.cookie_read),
]
