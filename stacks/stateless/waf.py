"""A regional web ACL for the API stage: AWS managed common rules and a per-IP rate limit."""

from typing import Any

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# Requests per IP address in any five-minute window before WAF blocks that address.
RATE_LIMIT_PER_IP = 2000

_Acl = wafv2.CfnWebACL


def _visibility(metric_name: str) -> _Acl.VisibilityConfigProperty:
    return _Acl.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


def _rule(name: str, priority: int, statement: _Acl.StatementProperty, **verdict: Any) -> Any:
    """A rule with its own metric; `verdict` is `action=` for own rules, `override_action=` for
    managed rule groups."""
    return _Acl.RuleProperty(
        name=name,
        priority=priority,
        statement=statement,
        visibility_config=_visibility(name),
        **verdict,
    )


class ApiWebAcl(Construct):
    def __init__(self, scope: Construct, id: str, *, stage_arn: str, name: str) -> None:
        super().__init__(scope, id)

        common_rules = _Acl.StatementProperty(
            managed_rule_group_statement=_Acl.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name="AWSManagedRulesCommonRuleSet"
            )
        )
        rate_limit = _Acl.StatementProperty(
            rate_based_statement=_Acl.RateBasedStatementProperty(
                limit=RATE_LIMIT_PER_IP, aggregate_key_type="IP"
            )
        )
        self.web_acl = _Acl(
            self,
            "WebAcl",
            name=name,
            scope="REGIONAL",
            default_action=_Acl.DefaultActionProperty(allow={}),
            visibility_config=_visibility(name),
            rules=[
                _rule(
                    "AWSManagedRulesCommonRuleSet",
                    0,
                    common_rules,
                    override_action=_Acl.OverrideActionProperty(none={}),
                ),
                _rule("RateLimitPerIp", 1, rate_limit, action=_Acl.RuleActionProperty(block={})),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self, "StageAssociation", resource_arn=stage_arn, web_acl_arn=self.web_acl.attr_arn
        )
