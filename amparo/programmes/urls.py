from django.urls import path

from amparo.programmes import views

o = "o/<slug:slug>/"
r = o + "referrals/<str:referral_id>/"

urlpatterns = [
    path(o + "referrals/", views.referral_list, name="referral-list"),
    path(o + "referrals/new/", views.referral_new, name="referral-new"),
    path(r, views.referral_detail, name="referral-detail"),
    path(r + "sessions/", views.referral_session, name="referral-session"),
    path(r + "next-session/", views.referral_next_session, name="referral-next-session"),
    path(r + "healing/", views.referral_healing, name="referral-healing"),
    path(r + "psychologist/", views.referral_psychologist, name="referral-psychologist"),
    path(r + "close/", views.referral_close, name="referral-close"),
    path(r + "notes/", views.referral_notes, name="referral-notes"),
]
