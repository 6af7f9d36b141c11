"""Compute: the seed's section 3 numbers, runtime, tracing, logs, placement and least privilege."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from compute_harness import (
    ENV,
    asset_root,
    foundation,
    function_logical_ids,
    synth,
)
from infra.cdk import build_assets as ba
from infra.cdk import constants as C
from infra.cdk.components.compute import (
    ASSET_ROOT_CONTEXT_KEY,
    EC2_VPC_ACCESS,
    AssetsNotBuilt,
    Compute,
)
from infra.cdk.config import Settings

from portfoliowise.adapters.dynamodb.tables import TableNames

SEED = {  # seed section 3: memory MB, timeout s, reserved concurrency
    "market": (256, 30, 100),
    "auth": (128, 10, None),
    "portfolio": (256, 10, 50),
    "analysis": (512, 60, 10),
    "scheduled": (128, 300, 1),
}
DDB_WRITES = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
}


def _function(name: str) -> dict[str, Any]:
    result = synth()
    return result.raw["Resources"][function_logical_ids(result)[name]]["Properties"]


def _policy_statements(name: str) -> list[dict[str, Any]]:
    """Every statement of the function's role policies."""
    result = synth()
    role = _function(name)["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for resource in result.resources("AWS::IAM::Policy").values():
        if {"Ref": role} in resource["Properties"]["Roles"]:
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(name: str) -> set[str]:
    actions: set[str] = set()
    for statement in _policy_statements(name):
        value = statement["Action"]
        actions.update([value] if isinstance(value, str) else value)
    return actions


def test_the_constants_are_the_seeds_numbers() -> None:
    for name, (memory, timeout, concurrency) in SEED.items():
        assert C.LAMBDA_MEMORY_MB[name] == memory
        assert C.LAMBDA_TIMEOUT_SECONDS[name] == timeout
        assert C.LAMBDA_RESERVED_CONCURRENCY[name] == concurrency


@pytest.mark.parametrize("name", list(SEED))
def test_memory_timeout_and_reserved_concurrency(name: str) -> None:
    memory, timeout, concurrency = SEED[name]
    props = _function(name)
    assert props["MemorySize"] == memory
    assert props["Timeout"] == timeout
    assert props.get("ReservedConcurrentExecutions") == concurrency


@pytest.mark.parametrize("name", list(SEED))
def test_python_312_on_arm64_with_active_tracing(name: str) -> None:
    props = _function(name)
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Handler"] == f"portfoliowise.handlers.lambdas.{name}.handler"


def test_five_functions_each_with_its_own_role() -> None:
    result = synth()
    result.template.resource_count_is("AWS::Lambda::Function", len(SEED))
    roles = {_function(name)["Role"]["Fn::GetAtt"][0] for name in SEED}
    assert len(roles) == len(SEED) == 5
    assert set(result.compute.functions) == set(SEED) == set(C.LAMBDA_FUNCTION_NAMES)


def test_only_the_analysis_function_reads_the_openai_key_and_the_models_bucket() -> None:
    for name in SEED:
        env = _function(name)["Environment"]["Variables"]
        granted = json.dumps(_policy_statements(name))
        if name == "analysis":
            assert "OpenAiSecret" in repr(env["OPENAI_API_KEY_SECRET"])
            assert "ModelsBucket" in repr(env["MODELS_BUCKET"])
            assert "OpenAiSecret" in granted
            assert "ModelsBucket" in granted
            continue
        assert "OPENAI_API_KEY_SECRET" not in env
        assert "OPENAI_MODEL" not in env
        assert "MODELS_BUCKET" not in env
        assert "OpenAiSecret" not in granted
        assert "ModelsBucket" not in granted


def test_analysis_environment() -> None:
    env = _function("analysis")["Environment"]["Variables"]
    assert env["OPENAI_API_KEY_SECRET"] == {"Ref": _logical("OpenAiSecret")}
    assert env["OPENAI_MODEL"] == C.OPENAI_MODEL
    # it authenticates API requests and checks CSRF tokens like the portfolio function
    assert env["SESSION_SIGNING_SECRET_ARN"] == {"Ref": _logical("SigningSecret")}
    assert env["POWERTOOLS_SERVICE_NAME"] == "portfoliowise-analysis"
    # no sign-in: neither the Google client secret nor the session-token key
    assert not {"GOOGLE_CLIENT_SECRET_ARN", "SESSION_TOKEN_KEY_ARN"} & set(env)


def test_analysis_variables_are_the_ones_the_code_reads() -> None:
    """The code's Settings read OPENAI_API_KEY_SECRET and OPENAI_MODEL (handlers/settings.py)."""
    from portfoliowise.handlers.settings import Settings as CodeSettings

    env = _function("analysis")["Environment"]["Variables"]
    fake = {
        key: value if isinstance(value, str) else f"deployed-{key}" for key, value in env.items()
    }
    settings = CodeSettings.from_env(fake)
    assert settings.openai_key_secret == "deployed-OPENAI_API_KEY_SECRET"
    assert settings.openai_model == C.OPENAI_MODEL
    assert settings.auth.signing_secret_name == "deployed-SESSION_SIGNING_SECRET_ARN"
    assert settings.service_name == "portfoliowise-analysis"


def _logical(construct_path: str) -> str:
    """The logical id of the harness's resource `construct_path` (path without `/`s, plus
    CDK's 8-character hash)."""
    pattern = re.compile(rf"{construct_path}[0-9A-F]{{8}}")
    (found,) = [name for name in synth().raw["Resources"] if pattern.fullmatch(name)]
    return found


def _normal(value: Any) -> Any:
    """A policy value with CloudFormation references as plain text: `{"Fn::GetAtt": [X,
    "Arn"]}` -> "X", `{"Ref": X}` -> "X", `Fn::Join` -> the joined text."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(_normal(part)) for part in parts)
        return {key: _normal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normal(item) for item in value]
    return value


def _statement_set(name: str) -> set[tuple[tuple[str, ...], tuple[str, ...], str]]:
    found = set()
    for statement in _policy_statements(name):
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        resources = _normal(statement["Resource"])
        found.add(
            (
                tuple(sorted([actions] if isinstance(actions, str) else actions)),
                tuple(sorted([resources] if isinstance(resources, str) else resources)),
                json.dumps(statement.get("Condition"), sort_keys=True),
            )
        )
    return found


def test_analysis_role_is_exactly_the_seeds_read_all_plus_its_own_writes() -> None:
    """Seed: "DynamoDB: Read All / Secrets: Read AI Keys / S3: Read Models", plus what the
    asynchronous job needs: its job items in the Cache table, its audit entry, its events."""
    table = {kind: _logical(f"{kind.capitalize()}Table") for kind in C.TABLE_KEYS}
    all_tables_and_indexes = tuple(
        sorted(
            arn
            for kind, logical in table.items()
            for arn in (logical, *(f"{logical}/index/{i[0]}" for i in C.TABLE_INDEXES[kind]))
        )
    )
    models, bus = _logical("ModelsBucket"), _logical("Bus")
    none = json.dumps(None)
    expected = {
        (("xray:PutTelemetryRecords", "xray:PutTraceSegments"), ("*",), none),
        (tuple(sorted(EC2_VPC_ACCESS)), ("*",), none),
        (
            ("logs:CreateLogStream", "logs:PutLogEvents"),
            (_logical("ComputeAnalysisLogGroup"),),
            none,
        ),
        (
            ("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"),
            all_tables_and_indexes,
            none,
        ),
        (
            ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"),
            (_logical("DataKey"),),
            none,
        ),
        (
            ("dynamodb:PutItem", "dynamodb:UpdateItem"),
            (table["cache"],),
            json.dumps(
                {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["*#ANALYSIS"]}},
                sort_keys=True,
            ),
        ),
        (("dynamodb:PutItem",), (table["audit"],), none),
        (
            ("secretsmanager:GetSecretValue",),
            tuple(sorted((_logical("OpenAiSecret"), _logical("SigningSecret")))),
            none,
        ),
        (("kms:Decrypt",), (_logical("SecretsKey"),), none),
        (("s3:ListBucket",), (models,), none),
        (("s3:GetObject",), (f"{models}/*",), none),
        (("kms:Decrypt",), (_logical("StorageKey"),), none),
        (
            ("events:PutEvents",),
            (bus,),
            json.dumps(
                {
                    "StringEquals": {
                        "events:source": ["portfoliowise.analysis"],
                        "events:detail-type": [
                            "AnalysisRequested",
                            "AnalysisCompleted",
                            "AnalysisFailed",
                        ],
                    }
                },
                sort_keys=True,
            ),
        ),
    }
    assert _statement_set("analysis") == expected


def test_scheduled_publishes_only_its_job_events() -> None:
    """`PutEvents` on the bus for `portfoliowise.jobs` / `JobCompleted` only: the scheduled
    function cannot publish a portfolio event (which it consumes itself)."""
    puts = [
        statement
        for statement in _policy_statements("scheduled")
        if "events:PutEvents" in json.dumps(statement["Action"])
    ]
    assert [(s["Action"], _normal(s["Resource"]), s.get("Condition")) for s in puts] == [
        (
            "events:PutEvents",
            _logical("Bus"),
            {
                "StringEquals": {
                    "events:source": ["portfoliowise.jobs"],
                    "events:detail-type": ["JobCompleted"],
                }
            },
        )
    ]


def test_the_job_event_constants_are_the_codes() -> None:
    from datetime import UTC, datetime

    from portfoliowise.domain.job_events import JobCompleted

    event = JobCompleted(job="backup", occurred_at=datetime(2026, 11, 29, tzinfo=UTC))
    assert (event.source, event.name) == (C.JOB_EVENT_SOURCE, *C.JOB_EVENT_TYPES)


def test_analysis_writes_only_its_job_items_and_its_audit_entry() -> None:
    written: dict[str, list[dict[str, Any]]] = {}
    for statement in _policy_statements("analysis"):
        actions = statement["Action"]
        actions = {actions} if isinstance(actions, str) else set(actions)
        if actions & DDB_WRITES:
            for resource in _normal([statement["Resource"]]):
                written.setdefault(resource, []).append(statement)
    cache, audit = _logical("CacheTable"), _logical("AuditTable")
    assert set(written) == {cache, audit}  # no other table, no index
    (job_items,) = written[cache]
    assert set(job_items["Action"]) == {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert job_items["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"*{C.ANALYSIS_JOB_KEY_SUFFIX}"]}
    }
    (entry,) = written[audit]
    assert entry["Action"] == "dynamodb:PutItem"
    assert "Condition" not in entry
    # nothing else may change anything: no delete, batch, transaction, PartiQL, S3 write
    every = _actions("analysis")
    assert not every & {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:Scan"}
    assert not {
        a for a in every if a.startswith("s3:") and a not in ("s3:GetObject", "s3:ListBucket")
    }


def test_the_job_key_pattern_matches_the_job_items_only() -> None:
    """`*#ANALYSIS` (IAM StringLike) matches `{jobId}#ANALYSIS`, not a quote's `symbol#market`."""
    import fnmatch

    pattern = f"*{C.ANALYSIS_JOB_KEY_SUFFIX}"
    assert fnmatch.fnmatchcase("0d9f3c2e-job#ANALYSIS", pattern)
    for quote_key in ("7203#TSE", "AAPL#NASDAQ", "USDJPY#FX", "ANALYSIS#TSE"):
        assert not fnmatch.fnmatchcase(quote_key, pattern)
    assert C.TABLE_KEYS[C.TABLE_CACHE] == ("cacheKey", "timestamp")


def test_each_function_logs_to_its_own_group_kept_30_days() -> None:
    result = synth()
    groups = result.resources("AWS::Logs::LogGroup")
    used = set()
    for name in SEED:
        ref = _function(name)["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[ref]["Properties"]["RetentionInDays"] == C.LAMBDA_LOG_RETENTION_DAYS == 30
        used.add(ref)
    assert len(used) == len(SEED)


def test_environment_names_the_tables_bus_and_metrics_namespace() -> None:
    for name in SEED:
        env = _function(name)["Environment"]["Variables"]
        for key in ("PORTFOLIO_TABLE", "AUDIT_TABLE", "SESSION_TABLE", "CACHE_TABLE"):
            assert "Ref" in env[key], (name, key)
        assert "Ref" in env["EVENT_BUS_NAME"]
        assert env["POWERTOOLS_SERVICE_NAME"] == f"portfoliowise-{name}"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "PortfolioWise"
        assert env["CORS_ORIGINS"] == "https://portfolio-wise.com,http://localhost:5173"
        assert env["PORTFOLIOWISE_MODE"] == "aws"
    assert "BACKUP_BUCKET" in _function("portfolio")["Environment"]["Variables"]
    # the portfolio function checks CSRF tokens: the session-signing key's secret
    assert "SESSION_SIGNING_SECRET_ARN" in _function("portfolio")["Environment"]["Variables"]
    assert "BACKUP_BUCKET" in _function("scheduled")["Environment"]["Variables"]
    auth = _function("auth")["Environment"]["Variables"]
    assert {
        "GOOGLE_CLIENT_SECRET_ARN",
        "SESSION_SIGNING_SECRET_ARN",
        "SESSION_TOKEN_KEY_ARN",
    } <= set(auth)
    assert "OPENAI_API_KEY_SECRET" not in auth


@pytest.mark.parametrize("name", list(SEED))
def test_no_wildcard_action_and_no_managed_policy(name: str) -> None:
    for statement in _policy_statements(name):
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            assert "*" not in action, (name, action)
    result = synth()
    role = result.raw["Resources"][_function(name)["Role"]["Fn::GetAtt"][0]]
    assert "ManagedPolicyArns" not in role["Properties"]


@pytest.mark.parametrize("name", list(SEED))
def test_each_asset_keeps_the_aws_data_of_the_services_its_role_may_call(name: str) -> None:
    """The asset's botocore keeps the models (and endpoints) of exactly the services the
    role grants (build_assets.BOTOCORE_SERVICES): a client for any other would be refused
    by IAM anyway. ENIs and X-Ray are the Lambda service's and the daemon's calls."""
    granted = {action.split(":", 1)[0] for action in _actions(name)} - {"ec2", "xray"}
    assert granted == ba.BOTOCORE_SERVICES[name]


def test_only_xray_and_eni_actions_are_on_resource_star() -> None:
    allowed = {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcs",
        "ec2:GetSecurityGroupsForVpc",
    }
    for name in SEED:
        for statement in _policy_statements(name):
            if statement["Resource"] == "*":
                actions = statement["Action"]
                assert set([actions] if isinstance(actions, str) else actions) <= allowed


def test_roles_follow_seed_section_3() -> None:
    market, auth, portfolio = _actions("market"), _actions("auth"), _actions("portfolio")
    scheduled = _actions("scheduled")
    assert "dynamodb:PutItem" in market
    assert "secretsmanager:GetSecretValue" in auth
    # portfolio reads one secret only: the session-signing key, to check CSRF tokens
    assert "secretsmanager:GetSecretValue" in portfolio
    assert "SigningSecret" in json.dumps(
        _resources_of("portfolio", "secretsmanager:GetSecretValue")
    )
    assert "Google" not in json.dumps(_resources_of("portfolio", "secretsmanager:GetSecretValue"))
    assert {"dynamodb:PutItem", "s3:PutObject", "events:PutEvents"} <= portfolio
    assert "s3:GetObject" not in portfolio  # the backups bucket is write-only for it
    # scheduled: read, delete expired items, backups, invoke market
    assert {"dynamodb:Scan", "dynamodb:DeleteItem", "s3:PutObject", "lambda:InvokeFunction"} <= (
        scheduled
    )
    assert "lambda:InvokeFunction" not in portfolio | auth | market
    # analysis: read all tables, the AI key, the models bucket; its own writes only
    analysis = _actions("analysis")
    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"} <= analysis
    assert {"secretsmanager:GetSecretValue", "s3:GetObject", "events:PutEvents"} <= analysis
    assert "lambda:InvokeFunction" not in analysis
    assert "dynamodb:Scan" not in analysis


def _resources_of(name: str, action: str) -> list[Any]:
    found: list[Any] = []
    for statement in _policy_statements(name):
        actions = statement["Action"]
        if action in ([actions] if isinstance(actions, str) else actions):
            resource = statement["Resource"]
            found += resource if isinstance(resource, list) else [resource]
    return found


def _refs(resources: list[Any]) -> str:
    return repr(resources)


def test_table_permissions_are_scoped_to_the_tables_and_named_indexes() -> None:
    market = _refs(_resources_of("market", "dynamodb:PutItem"))
    assert "CacheTable" in market
    assert "PortfolioTable" not in market
    assert "SessionTable" not in market
    assert "/index/market-timestamp-index" in _refs(_resources_of("market", "dynamodb:Query"))
    assert "index/*" not in market
    auth = _refs(_resources_of("auth", "dynamodb:PutItem"))
    assert "SessionTable" in auth
    assert "PortfolioTable" not in auth
    portfolio = _refs(_resources_of("portfolio", "dynamodb:PutItem"))
    assert "PortfolioTable" in portfolio
    assert "AuditTable" in portfolio
    assert "CacheTable" not in portfolio  # cache: read only
    assert "SessionTable" not in portfolio
    # every signed-in request reads its session: the API functions may read the Session table
    for name in ("portfolio", "analysis", "auth"):
        assert "SessionTable" in _refs(_resources_of(name, "dynamodb:GetItem")), name
    secrets = _refs(_resources_of("auth", "secretsmanager:GetSecretValue"))
    assert "GoogleSecret" in secrets
    assert "SigningSecret" in secrets
    assert "OpenAi" not in secrets
    analysis = _refs(_resources_of("analysis", "secretsmanager:GetSecretValue"))
    assert "OpenAiSecret" in analysis
    assert "SigningSecret" in analysis
    assert "Google" not in analysis
    reads = _refs(_resources_of("analysis", "dynamodb:Query"))
    for table in ("PortfolioTable", "AuditTable", "SessionTable", "CacheTable"):
        assert table in reads
    assert "index/*" not in reads
    assert "/daily/*" in _refs(_resources_of("portfolio", "s3:PutObject"))
    assert "MarketFunction" in _refs(_resources_of("scheduled", "lambda:InvokeFunction"))


def test_functions_run_in_the_private_subnets_with_the_lambda_sg() -> None:
    for name in SEED:
        vpc = _function(name)["VpcConfig"]
        assert len(vpc["SubnetIds"]) == 2
        assert all("privateSubnet" in s["Ref"] for s in vpc["SubnetIds"])
        assert len(vpc["SecurityGroupIds"]) == 1
        assert "LambdaSg" in repr(vpc["SecurityGroupIds"])


def test_without_nat_and_endpoints_every_function_runs_outside_the_vpc() -> None:
    """NAT mode `none` as deployed by default: no interface endpoints, so no function in the
    VPC (config.Settings.functions_in_vpc)."""
    result = synth(C.NAT_MODE_NONE)
    for logical in function_logical_ids(result).values():
        assert "VpcConfig" not in result.raw["Resources"][logical]["Properties"], logical


def test_without_nat_the_internet_facing_functions_leave_the_vpc() -> None:
    result = synth(C.NAT_MODE_NONE, interface_endpoints=True)
    ids = function_logical_ids(result)
    props = {name: result.raw["Resources"][ids[name]]["Properties"] for name in SEED}
    # market: quote sources; auth: Google; analysis: the OpenAI API
    assert {"market", "auth", "analysis"} == C.LAMBDA_NEEDS_INTERNET
    for name in ("market", "auth", "analysis"):
        assert "VpcConfig" not in props[name], name
    for name in ("portfolio", "scheduled"):
        assert "VpcConfig" in props[name], name


@pytest.mark.parametrize(
    ("nat_mode", "interface_endpoints"),
    [(C.NAT_MODE_SINGLE, False), (C.NAT_MODE_NONE, True), (C.NAT_MODE_NONE, False)],
)
def test_functions_in_the_vpc_may_attach_to_it_and_only_they(
    nat_mode: str, interface_endpoints: bool
) -> None:
    """A role of our own gets no AWSLambdaVPCAccessExecutionRole from CDK: without the
    network-interface actions Lambda refuses to create a function in the VPC."""
    result = synth(nat_mode, interface_endpoints=interface_endpoints)
    ids = function_logical_ids(result)
    for name in SEED:
        props = result.raw["Resources"][ids[name]]["Properties"]
        role = props["Role"]["Fn::GetAtt"][0]
        statements = [
            s
            for policy in result.resources("AWS::IAM::Policy").values()
            if {"Ref": role} in policy["Properties"]["Roles"]
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        eni = [s for s in statements if "ec2:CreateNetworkInterface" in s["Action"]]
        if "VpcConfig" in props:
            (statement,) = eni
            assert sorted(statement["Action"]) == sorted(EC2_VPC_ACCESS)
            assert statement["Resource"] == "*"
        else:
            assert eni == [], name


def test_no_unacknowledged_cdk_nag_finding_in_compute() -> None:
    findings = [v for v in synth().our_violations() if "/Compute/" in v[1]]
    assert findings == []


def test_synth_fails_clearly_without_built_assets(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path / "out"), context={ASSET_ROOT_CONTEXT_KEY: str(tmp_path)})
    stack = cdk.Stack(app, "Missing", env=ENV)
    refs = foundation(stack, nat=True)
    with pytest.raises(AssetsNotBuilt, match=r"build_assets"):
        Compute(stack, "Compute", settings=Settings(), **refs)


def test_asset_root_fixture_is_a_real_build() -> None:
    for name in SEED:
        assert (asset_root() / name / "portfoliowise" / "__init__.py").is_file()


@pytest.mark.parametrize("name", list(SEED))
def test_table_variables_are_the_ones_the_adapters_read(name: str) -> None:
    env = _function(name)["Environment"]["Variables"]
    names = TableNames.from_env({key: f"deployed-{key}" for key in env})
    assert names == TableNames(
        portfolio="deployed-PORTFOLIO_TABLE",
        audit="deployed-AUDIT_TABLE",
        session="deployed-SESSION_TABLE",
        cache="deployed-CACHE_TABLE",
    )
