from django.urls import path

from amparo.risk import views

o = "o/<slug:slug>/risk/"
s = o + "subjects/<str:subject_id>/"
a = o + "assessments/<str:assessment_id>/"

urlpatterns = [
    path(o, views.risk_list, name="risk-list"),
    path(o + "overdue/", views.overdue_list, name="risk-overdue"),
    path(o + "subjects/new/", views.subject_new, name="risk-subject-new"),
    path(s, views.subject_detail, name="risk-subject"),
    path(s + "schedule/", views.subject_schedule, name="risk-subject-schedule"),
    path(s + "assess/", views.assessment_new, name="risk-assessment-new"),
    path(a, views.assessment_detail, name="risk-assessment"),
    path(a + "actions/", views.action_add, name="risk-action-add"),
    path(o + "actions/<str:action_id>/done/", views.action_done, name="risk-action-done"),
]
