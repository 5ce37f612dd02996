from django.urls import path

from amparo.people import views

o = "o/<slug:slug>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("accounts/mfa/setup/", views.mfa_setup, name="mfa-setup"),
    path("accounts/mfa/verify/", views.mfa_verify, name="mfa-verify"),
    path("accounts/language/", views.set_language, name="set-language"),
    path("accounts/settings/", views.account_settings, name="account-settings"),
    path("accounts/tokens/<str:token_id>/revoke/", views.revoke_token, name="revoke-token"),
    path("accounts/logout-everywhere/", views.log_out_everywhere, name="logout-everywhere"),
    path("accounts/duress/", views.set_duress_password, name="duress-password"),
    path("invite/<str:token>/", views.accept_invitation, name="accept-invitation"),
    path(o, views.org_home, name="org-home"),
    path(o + "members/", views.members, name="members"),
    path(
        o + "invitations/<str:invitation_id>/revoke/",
        views.revoke_invitation,
        name="revoke-invitation",
    ),
    path(o + "people/", views.people_list, name="people"),
    path(o + "people/new/", views.person_edit, name="person-new"),
    path(o + "people/<str:person_id>/", views.person_detail, name="person-detail"),
    path(o + "people/<str:person_id>/edit/", views.person_edit, name="person-edit"),
    path(o + "people/<str:person_id>/chain/", views.person_chain, name="person-chain"),
    path(o + "chain-of-command/", views.chain_of_command, name="chain-of-command"),
    path(o + "directory/", views.directory_list, name="directory"),
    path(o + "directory/new/", views.directory_edit, name="directory-new"),
    path(o + "directory/<str:entry_id>/", views.directory_detail, name="directory-detail"),
    path(o + "directory/<str:entry_id>/edit/", views.directory_edit, name="directory-edit"),
    path(
        o + "directory/<str:entry_id>/archive/", views.directory_archive, name="directory-archive"
    ),
    path(o + "safe-houses/", views.safe_house_list, name="safe-houses"),
    path(o + "safe-houses/new/", views.safe_house_edit, name="safe-house-new"),
    path(o + "safe-houses/<str:safe_house_id>/", views.safe_house_detail, name="safe-house-detail"),
    path(
        o + "safe-houses/<str:safe_house_id>/edit/", views.safe_house_edit, name="safe-house-edit"
    ),
]
