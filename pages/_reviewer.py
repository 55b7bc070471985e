"""Who may decide on the review page: reviewers signed in with a name and password checked
against configured hashes (`matching.auth`: `STORMWATER_REVIEWERS` or a `[reviewers]`
table in Streamlit secrets), or through single sign-on (`st.login`) where an `[auth]`
section is configured. Everyone else reads the page with every decision control disabled.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from matching.auth import REVIEWERS_ENV, CredentialsInvalid, load_credentials, verify
from pages import _shared as sh
from pages._shared import K

#: Streamlit secrets: `[auth]` turns on single sign-on; `reviewer_emails`, when given,
#: lists who among the signed-on may decide (otherwise anyone the provider admits).
SSO_SECTION = "auth"
SSO_ALLOWED = "reviewer_emails"


def _secrets() -> dict[str, Any]:
    return st.secrets.to_dict() if st.secrets.load_if_toml_exists() else {}


def _sso_reviewer(secrets: dict[str, Any]) -> str | None:
    """The single-sign-on user allowed to review, when `[auth]` is configured."""
    if SSO_SECTION not in secrets or not st.user.get("is_logged_in"):
        return None
    who = str(st.user.get("email") or st.user.get("name") or "")
    allowed = secrets.get(SSO_ALLOWED)
    return who if who and (not allowed or who in allowed) else None


def _sign_in(credentials: dict[str, str]) -> None:
    """The sign-in form's callback: the name and password as typed, checked against hashes."""
    name = str(st.session_state.get("sign_in_name") or "").strip()
    password = str(st.session_state.get("sign_in_password") or "")
    if name and verify(name, password, credentials):
        st.session_state[K.REVIEWER] = name
    else:
        st.session_state[K.SIGN_IN_REFUSED] = True


def _sign_out(sso: bool) -> None:
    st.session_state.pop(K.REVIEWER, None)
    if sso:
        st.logout()


def reviewer_panel() -> str | None:
    """The sidebar's sign-in box; returns the signed-in reviewer, or None (read-only)."""
    secrets = _secrets()
    box = st.sidebar.container(border=True)
    box.markdown("**Reviewer**")
    sso = _sso_reviewer(secrets)
    who = sso or st.session_state.get(K.REVIEWER)
    if who:
        box.caption(f"Signed in as **{sh.plain(who)}**: you can decide.")
        box.button(
            "Sign out",
            key="sign_out",
            icon=":material/logout:",
            on_click=_sign_out,
            args=(bool(sso),),
        )
        return who
    if SSO_SECTION in secrets:
        box.button("Sign in with single sign-on", key="sso", on_click=st.login)
    try:
        env = {REVIEWERS_ENV: sh.settings().reviewers or ""}
        credentials = load_credentials(env, secrets)
    except CredentialsInvalid as exc:
        box.error(str(exc))
        credentials = {}
    if not credentials:
        box.caption(
            "Read-only: no reviewer accounts are configured. Add hashes made with "
            "`python cli.py hash-password` to `STORMWATER_REVIEWERS` or a `[reviewers]` "
            "table in `.streamlit/secrets.toml`."
        )
        return None
    with box.form("sign_in", border=False, clear_on_submit=True):
        st.text_input("Name", key="sign_in_name")
        st.text_input("Password", type="password", key="sign_in_password")
        st.form_submit_button(
            "Sign in", icon=":material/login:", on_click=_sign_in, args=(credentials,)
        )
    if st.session_state.pop(K.SIGN_IN_REFUSED, False):
        box.error("Wrong name or password: not signed in.")
    box.caption("Read-only until you sign in.")
    return None
