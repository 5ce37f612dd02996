"""Pages of trainings, the emergency fund and legal accompaniment (issue 8, points 4 to
6). Apart from urls.py, whose routes tests/programmes/test_isolation.py enumerates as
the referral pages; tests/programmes/test_programmes_isolation.py enumerates these."""

from django.urls import path

from amparo.programmes import fund_views, legal_views, training_views

o = "o/<slug:slug>/"
f = o + "fund/<str:request_id>/"
c = o + "legal/<str:case_id>/"
w = o + "trainings/<str:workshop_id>/"

urlpatterns = [
    # The emergency support fund (reference, Strategy 2, line 5).
    path(o + "fund/", fund_views.fund_list, name="fund-list"),
    path(o + "fund/new/", fund_views.fund_new, name="fund-new"),
    path(o + "fund/ledger/", fund_views.fund_ledger, name="fund-ledger"),
    path(o + "fund/summary/", fund_views.fund_summary, name="fund-summary"),
    path(f, fund_views.fund_detail, name="fund-detail"),
    path(f + "approve/", fund_views.fund_approve, name="fund-approve"),
    path(f + "refuse/", fund_views.fund_refuse, name="fund-refuse"),
    path(f + "disburse/", fund_views.fund_disburse, name="fund-disburse"),
    path(f + "satisfaction/", fund_views.fund_satisfaction, name="fund-satisfaction"),
    # Legal accompaniment (reference, Strategy 1, line 9; Strategy 5, lines 3 and 5).
    path(o + "legal/", legal_views.case_list, name="legal-case-list"),
    path(o + "legal/new/", legal_views.case_new, name="legal-case-new"),
    path(c, legal_views.case_detail, name="legal-case-detail"),
    path(c + "complaints/", legal_views.complaint_new, name="legal-complaint-new"),
    path(
        c + "complaints/<str:complaint_id>/",
        legal_views.complaint_status,
        name="legal-complaint-status",
    ),
    path(c + "lawyer/", legal_views.case_lawyer, name="legal-case-lawyer"),
    path(c + "close/", legal_views.case_close, name="legal-case-close"),
    # Trainings (reference, Strategy 1, lines 1 to 9).
    path(o + "trainings/", training_views.workshop_list, name="workshop-list"),
    path(o + "trainings/new/", training_views.workshop_new, name="workshop-new"),
    path(w, training_views.workshop_detail, name="workshop-detail"),
    path(w + "participants/", training_views.participant_new, name="workshop-participant-new"),
    path(
        w + "participants/<str:participant_id>/",
        training_views.participant_scores,
        name="workshop-participant-scores",
    ),
    path(w + "follow-ups/", training_views.follow_up_new, name="workshop-follow-up"),
]
