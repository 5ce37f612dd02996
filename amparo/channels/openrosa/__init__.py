"""The OpenRosa server: ODK Collect, KoboCollect and Tella list, download and submit forms
here unchanged (DESIGN.md section 8; issue 9)."""
