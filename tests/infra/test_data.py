"""Data (seed §4): the four tables match the code's schema (keys, GSIs, TTL), on demand, with
PITR and the customer-managed key; with DR, global tables with a us-east-1 replica."""

from __future__ import annotations

from typing import Any

import pytest
from infra.cdk import constants as c
from infra_synth import Synth

from portfoliowise.adapters.dynamodb.schema import TABLES, TableSpec
from portfoliowise.adapters.dynamodb.tables import TableNames

TABLE_NAMES = TableNames()  # the adapters' default names = the prod stage's names


def _tables(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["TableName"]: resource
        for resource in synth.resources("AWS::DynamoDB::GlobalTable").values()
    }


def _key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition, "KeyType": "HASH"}]
    if sort:
        schema.append({"AttributeName": sort, "KeyType": "RANGE"})
    return schema


def test_four_tables(default_synth: Synth) -> None:
    assert set(_tables(default_synth)) == set(TABLE_NAMES.all())


@pytest.mark.parametrize("spec", TABLES, ids=lambda spec: spec.role)
def test_table_matches_the_code_schema(default_synth: Synth, spec: TableSpec) -> None:
    """Key schema, attribute types, GSIs (names, keys, projections) and TTL attribute are
    exactly those the DynamoDB adapter creates and queries."""
    expected = spec.create_table_input(TABLE_NAMES)
    props = _tables(default_synth)[expected["TableName"]]["Properties"]
    assert props["KeySchema"] == expected["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        expected["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    assert props["GlobalSecondaryIndexes"] == expected.get("GlobalSecondaryIndexes", [])
    if spec.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {
            "AttributeName": spec.ttl_attribute,
            "Enabled": True,
        }
    else:
        assert "TimeToLiveSpecification" not in props


def test_seed_key_names_and_indexes() -> None:
    """The seed's names as written in section 4 (`symbol#market` is stored as `cacheKey`,
    `timestamp#userId` as `timestampUserId`: attribute names cannot hold '#' usefully)."""
    assert c.TABLE_KEYS == {
        "cache": ("cacheKey", "timestamp"),
        "session": ("sessionId", None),
        "portfolio": ("userId", "portfolioId"),
        "audit": ("date", "timestampUserId"),
    }
    assert {
        table: [index[0] for index in indexes] for table, indexes in c.TABLE_INDEXES.items()
    } == {
        "cache": ["market-timestamp-index", "ttl-index"],
        "session": ["userId-index", "expiresAt-index"],
        "portfolio": ["portfolioId-index", "updatedAt-index"],
        "audit": ["userId-date-index", "action-date-index"],
    }
    assert c.TABLE_TTL == {"cache": "ttl", "session": "ttl", "portfolio": None, "audit": "ttl"}
    assert (c.CACHE_TTL_HOURS, c.SESSION_TTL_HOURS, c.AUDIT_RETENTION_DAYS) == (1, 24, 90)


def test_on_demand_pitr_and_customer_managed_key(default_synth: Synth) -> None:
    keys = default_synth.resources("AWS::KMS::Key")
    for name, table in _tables(default_synth).items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}, name
        (replica,) = props["Replicas"]
        assert replica["Region"] == c.DEFAULT_PRIMARY_REGION
        assert replica["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True,
            "RecoveryPeriodInDays": c.PITR_RECOVERY_PERIOD_DAYS,
        }
        key_id = replica["SSESpecification"]["KMSMasterKeyId"]["Fn::GetAtt"][0]
        assert "DataKey" in key_id
        assert keys[key_id]["Properties"]["EnableKeyRotation"] is True


def test_user_data_tables_are_protected_and_retained(default_synth: Synth) -> None:
    tables = _tables(default_synth)
    for role in ("portfolio", "audit"):
        table = tables[f"portfoliowise-{role}"]
        assert table["DeletionPolicy"] == "Retain"
        assert all(r["DeletionProtectionEnabled"] for r in table["Properties"]["Replicas"])
    for role in ("cache", "session"):
        assert tables[f"portfoliowise-{role}"]["DeletionPolicy"] == "Delete"


def test_dr_adds_a_us_east_1_replica_with_its_key(dr_synth: Synth) -> None:
    for name, table in _tables(dr_synth).items():
        replicas = {r["Region"]: r for r in table["Properties"]["Replicas"]}
        assert set(replicas) == {c.DEFAULT_PRIMARY_REGION, c.DR_REGION}, name
        dr = replicas["us-east-1"]
        assert dr["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        key = dr["SSESpecification"]["KMSMasterKeyId"]["Fn::Join"][1]
        assert key[-1] == ":alias/portfoliowise-data-replica"
        assert ":kms:us-east-1:" in key
        # global tables replicate through streams
        assert table["Properties"]["StreamSpecification"] == {
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        }
