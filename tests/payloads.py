"""Helpers the payload tests share: the SDK model walker and payload-ready scenarios.

DocuSign's ``docusign-esign`` SDK describes every REST v2.1 model with an
``attribute_map`` (Python name -> JSON key) and ``swagger_types`` (Python name
-> type).  Its own deserializer drops unknown keys silently, so
:func:`check_model` walks a JSON object against the models itself and fails
on any key the model does not have or any value of the wrong JSON type.
"""

from __future__ import annotations

from typing import Any

import attrs
import docusign_esign
from hypothesis import strategies as st

import connect_sim as cs
from connect_sim.configuration import INCLUDE_DATA

from scenarios import Plan, plans

# The order of real captured Connect 2.0 messages.
TOP_LEVEL = ["event", "apiVersion", "uri", "retryCount", "configurationId",
             "generatedDateTime", "data"]  # fmt: skip
DATA_KEYS = {"accountId", "userId", "recipientId", "envelopeId", "envelopeSummary"}
# The keys Connect writes that the SDK's REST models lack (a document's content).
CONNECT_ONLY = {"EnvelopeDocument": {"PDFBytes"}}


def check_model(obj: object, model: str, path: str) -> None:
    """Assert ``obj`` uses only keys of SDK model ``model``, each with the type it expects."""
    cls = getattr(docusign_esign, model)
    assert isinstance(obj, dict), f"{path}: expected an object for {model}, got {obj!r}"
    python_name = {key: name for name, key in cls.attribute_map.items()}
    for key, value in obj.items():
        if key in CONNECT_ONLY.get(model, ()):
            assert isinstance(value, str), f"{path}.{key}: expected base64 text"
            continue
        assert key in python_name, f"{path}.{key} is not a key of the SDK's {model}"
        check_value(value, cls.swagger_types[python_name[key]], f"{path}.{key}")


def check_value(value: object, swagger: str, path: str) -> None:
    if swagger == "str":
        assert isinstance(value, str), f"{path}: the SDK expects a string, got {value!r}"
    elif swagger.startswith("list["):
        assert isinstance(value, list), f"{path}: the SDK expects an array, got {value!r}"
        for number, item in enumerate(value):
            check_value(item, swagger[5:-1], f"{path}[{number}]")
    else:
        assert swagger[:1].isupper(), f"{path}: unexpected SDK type {swagger}"
        check_model(value, swagger, path)


def check_json_body(body: bytes) -> dict[str, Any]:
    """Check a whole JSON body: the wrapper by the facts sheet, the summary by the SDK."""
    import json

    document = json.loads(body)
    assert list(document) == TOP_LEVEL
    assert isinstance(document["retryCount"], int) and document["retryCount"] >= 0
    assert isinstance(document["configurationId"], int)
    assert document["apiVersion"] == "v2.1"
    data = document["data"]
    assert set(data) <= DATA_KEYS and {"accountId", "userId", "envelopeId"} <= set(data)
    assert all(isinstance(data[key], str) for key in (DATA_KEYS - {"envelopeSummary"}) & set(data))
    account, envelope = data["accountId"], data["envelopeId"]
    assert document["uri"] == f"/restapi/v2.1/accounts/{account}/envelopes/{envelope}"
    assert ("recipientId" in data) == document["event"].startswith("recipient-")
    if "envelopeSummary" in data:  # unless the configuration leaves it out
        check_model(data["envelopeSummary"], "Envelope", "data.envelopeSummary")
    return document  # type: ignore[no-any-return]


# Text any format can carry (the XML limits have their own property test).
SAFE_TEXT = st.text(
    st.characters(codec="utf-8", min_codepoint=0x20, exclude_characters="\ufffe\uffff"),
    max_size=8,
)
FIELDS = st.dictionaries(st.text("ABCDEFGHIJ", min_size=1, max_size=6), SAFE_TEXT, max_size=3)
DOCUMENTS = st.lists(
    st.builds(cs.Document, name=st.sampled_from(["contract.pdf", "terms.pdf"]),
              content=st.binary(max_size=40)),
    max_size=2,
)  # fmt: skip


@st.composite
def payload_plans(draw: st.DrawFn, format: str | None = None) -> Plan:
    """Scenarios whose configurations write bodies: each with a format, includes and keys."""
    plan = draw(plans(answers_at_once=True, anomalies=True))
    configurations = []
    for configuration, listener, scope in plan.configurations:
        chosen = format or draw(st.sampled_from(["json", "xml"]))
        summarised = chosen == "xml" or draw(st.booleans())
        # Without the summary there is nothing for include_data to add to.
        include = draw(st.lists(st.sampled_from(INCLUDE_DATA), unique=True)) if summarised else []
        configurations.append(
            (
                attrs.evolve(
                    configuration,
                    format=chosen,
                    include_data=include,
                    hmac_keys=draw(st.sampled_from([(), ("k1",), ("old", "new")])),
                    include_envelope_summary=summarised,
                    include_certificate_of_completion="documents" in include
                    and draw(st.booleans()),
                    include_sender_account_as_custom_field=summarised and draw(st.booleans()),
                ),
                listener,
                scope,
            )
        )
    plan.configurations = configurations
    for envelope_id, _, _ in plan.envelopes:
        plan.custom_fields[envelope_id] = draw(FIELDS)
        plan.documents[envelope_id] = draw(DOCUMENTS)
    return plan


def every_attempt(plan: Plan, mode: str) -> list[cs.Attempt]:
    sim = plan.build(mode)
    return sim.run().attempts
