"""``/api/v1/checkpoint/``: the scan and the decision at a checkpoint (seed 002 §2.2),
the pass keys, and who is told of decisions (告警设置).

* ``POST /scan`` ``{"code"}`` (permission ``Checkpoint``) → the SPEC §9 scan answer;
  400 not a code of ours, 409 二维码已过期，请司机重新预约 (used, expired);
* ``POST /decide`` ``{"code", "allow", "reason"}`` → consumes the pass; 400 a denial
  without a reason, 409 二维码已过期，请司机重新预约 (already decided: the first decision
  stands);
* ``GET /keys`` (public) → the public keys passes are verified with, a JWK set
  (Ed25519), so a checkpoint app can verify codes offline; ``GET /keys.pem`` the same as
  PEM;
* ``GET /recipients`` and ``PUT /recipients`` ``{"scope": "town"|"bureau"|"taskforce",
  "town_id", "recipients": [{"user_id"}|{"phone"}|{"webhook"}], "active"}`` (district
  admin, the transport bureau): the first form of 告警设置, kept as a thin alias of the
  declared resource ``/api/v1/checkpoint_recipients/`` (views/truck_ledgers.py) — the
  same service, scope, checks and audit; a row is named by its target, not its id.
"""
from __future__ import annotations

from flask import Response, request
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import permission_name, protect

from app.domain.errors import OutOfScope
from app.platform.pass_keys import keyring
from app.security import roles as R
from app.security.policies.drivers import may_set_recipients
from app.services.drivers import checkpoint
from views import openapi as doc
from views.base import ScopedApi, answer, rw_map
from views.truck_ledgers import CHECKPOINT_RECIPIENTS

TEXT = {"type": "string"}
CODE = doc.obj({"code": TEXT}, required=("code",))
DECIDE = doc.obj({"code": TEXT, "allow": {"type": "boolean"},
                  "reason": doc.nullable({"type": "string", "description": "required to deny: 健康码黄码, 健康码红码, "
                                                                           "无核酸证明, 核酸超时, 其他 or any text"})},
                 required=("code", "allow"))
SCAN = doc.obj({
    "enterprise_driver": {"type": "boolean"}, "enterprise_name": doc.nullable(TEXT),
    "enterprise_id": doc.nullable({"type": "integer"}),
    "driver_label": TEXT, "test_label": TEXT, "vaccine_label": TEXT, "booking": doc.ref("BookingDetail"),
    "expires_at": TEXT, "reasons": doc.array(TEXT),
}, required=("enterprise_driver", "enterprise_name", "driver_label", "test_label", "vaccine_label", "booking"))
DECISION = doc.obj({"id": {"type": "integer"}, "state": {"type": "string", "enum": ["allowed", "denied"]},
                    "state_label": TEXT, "reason": doc.nullable(TEXT), "decided_at": TEXT},
                   required=("id", "state"))
JWKS = doc.obj({"keys": doc.array(doc.obj({"kty": TEXT, "crv": TEXT, "alg": TEXT, "use": TEXT, "kid": TEXT,
                                           "x": TEXT, "current": {"type": "boolean"}}))}, required=("keys",))
RECIPIENT = {"type": "object", "description": '{"user_id": n} | {"phone": "…"} | {"webhook": "https://…"}'}
SETTING = doc.obj({"id": {"type": "integer"}, "scope": {"type": "string", "enum": ["town", "bureau", "taskforce"]},
                   "town_id": doc.nullable({"type": "integer"}), "town": doc.nullable(TEXT),
                   "recipients": doc.array(RECIPIENT), "active": {"type": "boolean"}},
                  required=("scope", "recipients"))
SETTINGS = doc.obj({"result": doc.array(doc.ref("CheckpointRecipientSetting"))}, required=("result",))


def _setting(row) -> dict:
    return {"id": row.id, "scope": row.scope, "town_id": row.town_id, "town": row.town.name if row.town else None,
            "recipients": row.recipients or [], "active": row.active}


class CheckpointApi(ScopedApi):
    resource_name = "checkpoint"
    class_permission_name = R.CHECKPOINT_SCAN
    method_permission_name = rw_map(extra_read=("scan",), extra_write=("decide",))
    openapi_spec_tag = "Checkpoint"
    openapi_components = {"ScanCode": CODE, "Decision": DECIDE, "ScanAnswer": SCAN, "DecisionAnswer": DECISION,
                          "PassKeys": JWKS}

    @expose("/scan", methods=["POST"])
    @protect()  # writes take the bearer token only: the API is CSRF-exempt
    @permission_name("scan")
    @doc.describe(doc.answer(doc.ref("ScanAnswer"), "What the scan screen shows"),
                  body=doc.json_body(doc.ref("ScanCode")), errors=(400, 409))
    def scan(self):
        """Scan a pass: the driver, enterprise, test and vaccine labels and the booking."""
        data = self.json_object()
        return answer(200, checkpoint.scan(data.get("code"), self.current_user()))

    @expose("/decide", methods=["POST"])
    @protect()  # writes take the bearer token only: the API is CSRF-exempt
    @permission_name("decide")
    @doc.describe(doc.answer(doc.ref("DecisionAnswer"), "The decision; the pass is used"),
                  body=doc.json_body(doc.ref("Decision")), errors=(400, 409))
    def decide(self):
        """Allow or deny a pass (once: any later decision is 409)."""
        data = self.json_object()
        return answer(200, checkpoint.decide(data.get("code"), data.get("allow"), data.get("reason"),
                                             self.current_user()))

    @expose("/keys", methods=["GET"])
    @doc.describe(doc.answer(doc.ref("PassKeys"), "The pass keys (JWK set, Ed25519)"), protected=False)
    def keys(self):
        """The public keys passes are signed with (current first)."""
        return answer(200, keyring().jwks())

    @expose("/keys.pem", methods=["GET"])
    @doc.describe({"description": "The public keys (PEM)", "content": {"application/x-pem-file": {
        "schema": {"type": "string"}}}}, protected=False)
    def keys_pem(self):
        """The same public keys in PEM."""
        return Response(keyring().pem(), mimetype="application/x-pem-file")

    @staticmethod
    def current_user():
        from flask import g
        return getattr(g, "user", None)


class CheckpointRecipientsAliasApi(ScopedApi):
    """The first form of 告警设置's API (see the module docstring)."""

    resource_name = "checkpoint/recipients"
    class_permission_name = R.CHECKPOINT_SETTING
    openapi_spec_tag = "Checkpoint"
    openapi_components = {"CheckpointRecipientSetting": SETTING, "CheckpointRecipientSettings": SETTINGS}

    service = CHECKPOINT_RECIPIENTS.service

    @expose("/", methods=["GET"])
    @protect(allow_browser_login=True)
    @permission_name("get_list")
    @doc.describe(doc.answer(doc.ref("CheckpointRecipientSettings"), "One setting per town, the bureau, the task force"),
                  errors=(404,))
    def get_list(self):
        """Who is told of checkpoint decisions (告警设置; also ``/api/v1/checkpoint_recipients/``)."""
        if not may_set_recipients(self.scope):
            raise OutOfScope("CheckpointRecipients")
        return self.response(200, result=[_setting(r) for r in self.service.rows(self.session, self.scope)])

    @expose("/", methods=["PUT"])
    @protect()  # writes take the bearer token only: the API is CSRF-exempt
    @permission_name("put")
    @doc.describe(doc.answer(doc.ref("CheckpointRecipientSetting"), "The setting as stored"),
                  body=doc.json_body(doc.ref("CheckpointRecipientSetting")), errors=(400, 404))
    def put(self):
        """Set the recipients of a town, of the transport bureau or of the task force's summary."""
        if not may_set_recipients(self.scope):
            raise OutOfScope("CheckpointRecipients")
        return answer(200, _setting(self.service.set_for(self.session, self.scope, self.json_object())))
