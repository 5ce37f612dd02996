from django.urls import path

from amparo.crisis import views

o = "o/<slug:slug>/crisis/"

urlpatterns = [
    path(o, views.case_list, name="crisis-list"),
    path(o + "new/", views.open_case, name="crisis-new"),
    path(o + "playbooks/", views.playbook_list, name="crisis-playbooks"),
    path(o + "playbooks/<str:playbook_id>/", views.playbook_detail, name="crisis-playbook"),
    path(o + "from-alert/<str:alert_id>/", views.open_from_alert, name="crisis-from-alert"),
    path(o + "<str:case_id>/", views.detail, name="crisis-detail"),
    path(o + "<str:case_id>/tasks/<str:task_id>/done/", views.task_done, name="crisis-task-done"),
    path(o + "<str:case_id>/timeline/", views.add_note, name="crisis-note"),
    path(o + "<str:case_id>/blackout/", views.blackout, name="crisis-blackout"),
    path(o + "<str:case_id>/advocacy/", views.advocacy_alert, name="crisis-advocacy"),
    path(o + "<str:case_id>/review/", views.review, name="crisis-review"),
]
