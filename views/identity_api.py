"""``/api/v1/identity/``: one phone identity for every person who proves a phone by SMS
code (SPEC §9): enterprise heads, drivers, employees, testing workers.

* ``POST /code`` ``{"phone", "purpose"}`` → 200 ``{"message": "验证码已发送"}`` whether or
  not the phone is known (400 malformed phone or purpose, 429 limits);
* ``POST /verify`` ``{"phone", "code", "purpose"}`` → ``{"access_token"}``, a JWT limited to
  that person and purpose (400 wrong or expired code, 429 limits).

Public (no login), CSRF-exempt like every API; the limits of app/security/sms_codes.py
apply (per phone, per address, resend pause, tries).
"""
from __future__ import annotations

from flask import request
from flask_appbuilder import expose

from app.services import identity
from views import openapi as doc
from views.base import ScopedApi

PHONE = {"type": "string", "description": "11-digit mainland mobile number"}
PURPOSE = {"type": "string", "description": "head | driver | employee | workforce (those this deployment serves)"}
CODE_BODY = doc.obj({"phone": PHONE, "purpose": PURPOSE}, required=("phone", "purpose"))
VERIFY_BODY = doc.obj({"phone": PHONE, "purpose": PURPOSE, "code": {"type": "string", "pattern": "^[0-9]{6}$"}},
                      required=("phone", "code", "purpose"))
TOKEN = doc.obj({"access_token": {"type": "string"}}, required=("access_token",))


class IdentityApi(ScopedApi):
    resource_name = "identity"
    openapi_spec_tag = "Identity"
    openapi_components = {"IdentityCode": CODE_BODY, "IdentityVerify": VERIFY_BODY, "IdentityToken": TOKEN}

    def _address(self) -> str:
        return request.remote_addr or "-"

    @expose("/code", methods=["POST"])
    @doc.describe(doc.answer(doc.ref("Message"), "Sent (or silently not, to a phone the purpose does not serve)"),
                  body=doc.json_body(doc.ref("IdentityCode")), errors=(400, 429))
    def code(self):
        """Send a login code by SMS: the same answer for known and unknown phones."""
        data = self.json_object()
        identity.request_code(self.session, data.get("phone"), data.get("purpose"), self._address())
        return self.response(200, message=str(identity.MSG_SENT))

    @expose("/verify", methods=["POST"])
    @doc.describe(doc.answer(doc.ref("IdentityToken"), "A token limited to that person and purpose"),
                  body=doc.json_body(doc.ref("IdentityVerify")), errors=(400, 429))
    def verify(self):
        """Check a code: a JWT limited to that person and purpose."""
        data = self.json_object()
        verified = identity.verify(self.session, data.get("phone"), data.get("code"), data.get("purpose"),
                                   self._address())
        return self.response(200, access_token=identity.access_token(verified))
