import pytest

from mastowizard.s3 import cors_risk, policies


def rules(*rs):
    return {"CORSRules": list(rs)}


def test_generated_configuration_is_safe_and_fit():
    r = cors_risk.rate_rules(policies.cors_configuration())
    assert r.severity == "ok" and r.allows_public_get and r.allows_head


@pytest.mark.parametrize("rule,severity,fragment", [
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT"]}, "high", "PUT"),
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "POST", "DELETE"]}, "high", "DELETE"),
    ({"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET"]}, "medium", "partial wildcard"),
    ({"AllowedOrigins": ["https://admin.example.com"], "AllowedMethods": ["PUT"]}, "medium", "PUT"),
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposeHeaders": ["x-amz-meta-owner"]}, "medium",
     "sensitive"),
    ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposeHeaders": ["*"]}, "medium", "sensitive"),
    ({"AllowedOrigins": ["http://example.com"], "AllowedMethods": ["GET"]}, "low", "plain-http"),
    ({"AllowedOrigins": ["https://mastodon.example"], "AllowedMethods": ["GET"]}, "low", "no rule allows GET"),
])
def test_risky_rules(rule, severity, fragment):
    r = cors_risk.rate_rules(rules(rule))
    assert r.severity == severity
    assert fragment in r.summary()
    assert all(f.fix for f in r.findings)


def test_no_configuration_is_not_fit():
    r = cors_risk.rate_rules(None)
    assert not r.allows_public_get and r.severity == "ok"


@pytest.mark.parametrize("headers,severity", [
    ({"Access-Control-Allow-Origin": "*"}, "ok"),
    ({"Access-Control-Allow-Origin": "https://evil.example", "Access-Control-Allow-Credentials": "true"}, "high"),
    ({"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"}, "medium"),
    ({"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, PUT"}, "high"),
    ({"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Set-Cookie"}, "medium"),
])
def test_rate_headers(headers, severity):
    assert cors_risk.rate_headers(headers, "https://evil.example").severity == severity
