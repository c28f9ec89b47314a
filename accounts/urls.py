"""The staff pages (district admins) and the public set-password page."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:pk>/<slug:action>/", views.staff_action, name="staff_action"),
    path("password/set/done/", views.password_set_done, name="password_set_done"),
    path("password/set/<uidb64>/<token>/", views.PasswordSetView.as_view(), name="password_set"),
]
