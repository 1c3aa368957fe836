"""Code and declaration cannot drift: every registered model's purpose and rule are declared."""

from __future__ import annotations

from vern.declaration.consistency import registry_problems
from vern.declaration.loading import parse
from vern.registry.entries import entries


def test_p5_every_registered_model_names_a_declared_purpose_and_a_rule_for_it(default_source):
    declaration = parse(default_source).declaration
    assert registry_problems(declaration) == []
    for entry in entries():
        purpose = declaration.purpose(entry.purpose)
        rule = declaration.rule(entry.retention)
        assert purpose is not None and rule is not None and entry.purpose in rule.purposes


def test_a_declaration_that_drops_a_purpose_the_code_uses_cannot_be_published(default_source):
    without_rule = default_source.replace("    - id: mail_log\n", "    - id: sent_mail\n", 1)
    problems = [str(p) for p in registry_problems(parse(without_rule).declaration)]
    assert "registry: mail.OutboxMessage: follows the retention rule 'mail_log', which is not declared" in problems
