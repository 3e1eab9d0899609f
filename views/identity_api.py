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

from app.security import identities
from app.services import identity
from views import openapi
from views.base import ScopedApi

PHONE = {"type": "string", "description": "11-digit mainland mobile number"}


class IdentityApi(ScopedApi):
    resource_name = "identity"
    openapi_spec_tag = "Identity"

    def add_api_spec(self, api_spec) -> None:
        openapi.add_component(api_spec, "Message", openapi.MESSAGE)
        openapi.add_component(api_spec, "ValidationError", openapi.VALIDATION)
        purpose = {"type": "string", "enum": identities.purposes()}
        code_body = {"type": "object", "required": ["phone", "purpose"],
                     "properties": {"phone": PHONE, "purpose": purpose}}
        verify_body = {"type": "object", "required": ["phone", "code", "purpose"],
                       "properties": {"phone": PHONE, "purpose": purpose,
                                      "code": {"type": "string", "pattern": "^[0-9]{6}$"}}}
        token = {"type": "object", "required": ["access_token"], "properties": {"access_token": {"type": "string"}}}
        base = self.route_base
        api_spec.path(path=f"{base}/code", operations={"post": {
            "summary": "Send a login code by SMS (the same answer for known and unknown phones)",
            "tags": ["Identity"], "requestBody": {"required": True, "content": openapi.json_content(code_body)},
            "responses": {"200": {"description": "Sent (or silently not, for a phone the purpose does not serve)",
                                  "content": openapi.json_content(openapi.ref("Message"))},
                          **openapi.errors(400, 429)}}})
        api_spec.path(path=f"{base}/verify", operations={"post": {
            "summary": "Check a code; a token limited to that person and purpose",
            "tags": ["Identity"], "requestBody": {"required": True, "content": openapi.json_content(verify_body)},
            "responses": {"200": {"description": "The token", "content": openapi.json_content(token)},
                          **openapi.errors(400, 429)}}})

    def _address(self) -> str:
        return request.remote_addr or "-"

    @expose("/code", methods=["POST"])
    def code(self):
        data = self.json_object()
        identity.request_code(self.session, data.get("phone"), data.get("purpose"), self._address())
        return self.response(200, message=str(identity.MSG_SENT))

    @expose("/verify", methods=["POST"])
    def verify(self):
        data = self.json_object()
        verified = identity.verify(self.session, data.get("phone"), data.get("code"), data.get("purpose"),
                                   self._address())
        return self.response(200, access_token=identity.access_token(verified))
