"""RAN configuration compiler: MOM XML / YANG / NRM XSD -> typed models -> templates -> plans.

Public entry points::

    mom = parse_moms([xml_bytes, ...])                  # or io.read_mom(paths)
    mom = parse_yang({name: text, ...}, ["module"])     # 3GPP NRM YANG; io.read_yang(paths)
    mom = parse_nrm_xsd({name: xsd_bytes, ...})         # Bulk CM NRM XSD; io.read_nrm_xsd
    files = generate_package(mom, "erbs_models")        # io.write_package(files, out_dir)
    models = compile_models(mom)                        # the same models, imported in memory
    rules = check_rules(parse_rules(csv_text), mom)
    issues = validate_template(resolve_template(doc, "urban"), models, rules)
    plan = build_plan(template, scope, mom, rules=rules)
    report = execute_plan(plan, executor)               # InMemoryEnm, EnmRestExecutor, dry run

See docs/engines/ranconfig.md.
"""

from opsforge.engines.ranconfig.cm import CmState, MoState
from opsforge.engines.ranconfig.cmedit import Command, parse_command, parse_response
from opsforge.engines.ranconfig.codegen import generate_package
from opsforge.engines.ranconfig.executor import (
    CommandExecutor,
    DryRunExecutor,
    ExecutionReport,
    execute_commands,
    execute_plan,
)
from opsforge.engines.ranconfig.loader import ModelSet, compile_models
from opsforge.engines.ranconfig.mom import Mom, mom_class_name
from opsforge.engines.ranconfig.nrm_xsd import parse_nrm_xsd
from opsforge.engines.ranconfig.parser import parse_mom, parse_moms
from opsforge.engines.ranconfig.plan import Plan, build_plan
from opsforge.engines.ranconfig.reference import render_reference
from opsforge.engines.ranconfig.rules import (
    Rule,
    RuleViolation,
    check_rules,
    evaluate_rules,
    parse_rules,
    suggest_rules,
)
from opsforge.engines.ranconfig.templates import (
    Template,
    TemplateDocument,
    TemplateIssue,
    resolve_template,
    validate_document,
    validate_template,
)
from opsforge.engines.ranconfig.yang import parse_yang

__all__ = [
    "CmState",
    "Command",
    "CommandExecutor",
    "DryRunExecutor",
    "ExecutionReport",
    "MoState",
    "ModelSet",
    "Mom",
    "Plan",
    "Rule",
    "RuleViolation",
    "Template",
    "TemplateDocument",
    "TemplateIssue",
    "build_plan",
    "check_rules",
    "compile_models",
    "evaluate_rules",
    "execute_commands",
    "execute_plan",
    "generate_package",
    "mom_class_name",
    "parse_command",
    "parse_mom",
    "parse_moms",
    "parse_nrm_xsd",
    "parse_response",
    "parse_rules",
    "parse_yang",
    "render_reference",
    "resolve_template",
    "suggest_rules",
    "validate_document",
    "validate_template",
]
