"""The public policy pages: what each severity means, the targets per plan, and the support plans."""

from __future__ import annotations

from flask import jsonify, render_template, request

from kb.accounts.models import Plan
from kb.cases import severity as severity_info
from kb.cases.actions import policy_context
from kb.cases.views import bp


@bp.route("/severity")
def severity():
    """What each severity means, the targets per plan, and a questionnaire that suggests one."""
    answers = {q.key: request.args.get(q.key, "") for q in severity_info.QUESTIONS}
    number, reason = severity_info.suggest_severity(answers)
    asked = any(answers.values())
    return render_template("cases/severity.html", answers=answers, suggestion=(number, reason) if asked else None,
                           **policy_context())


@bp.route("/severity/suggest")
def suggest():
    """The questionnaire's answer as JSON, for the page script that suggests as you answer."""
    answers = {q.key: request.args.get(q.key, "") for q in severity_info.QUESTIONS}
    number, reason = severity_info.suggest_severity(answers)
    return jsonify({"severity": number, "label": severity_info.label(number) if number else None, "reason": reason})


@bp.route("/support")
def support():
    """The two support plans and business hours."""
    return render_template("cases/support.html", plans=[p.value for p in Plan], **policy_context())
