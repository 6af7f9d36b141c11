"""Data (seed §4): the Cache, Session, Portfolio and Audit tables.

On-demand billing, the keys, GSIs and TTL attributes of
`src/portfoliowise/adapters/dynamodb/schema.py` (mirrored in constants.py; a test compares
both), point-in-time recovery, one customer-managed KMS key with rotation. With DR on, each
table is a global table with a replica in us-east-1, encrypted there with the DR stack's key.
Portfolio and Audit hold user data: deletion-protected and retained when the stack goes.

In the standby deployment (`standby`, DR region) the tables already exist as the replicas of
the global tables: they are imported by name with the DR stack's key (looked up by alias).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.cdk import constants as c
from infra.cdk.components.refs import DataRefs
from infra.cdk.components.storage import replica_key_alias, replica_key_alias_arn
from infra.cdk.config import Settings

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}


class Data(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        roles = (c.TABLE_CACHE, c.TABLE_SESSION, c.TABLE_PORTFOLIO, c.TABLE_AUDIT)
        if settings.standby:
            self.data_key: kms.IKey = kms.Key.from_lookup(
                self, "DataKey", alias_name=replica_key_alias(settings, "data")
            )
            self.tables: dict[str, dynamodb.ITableV2] = {
                role: dynamodb.TableV2.from_table_attributes(
                    self,
                    f"{role.capitalize()}Table",
                    table_name=settings.name(role),
                    encryption_key=self.data_key,
                    grant_index_permissions=True,
                )
                for role in roles
            }
        else:
            self.data_key = kms.Key(
                self,
                "DataKey",
                description="PortfolioWise DynamoDB tables",
                enable_key_rotation=True,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            self.tables = {role: self._table(settings, role) for role in roles}
        self.refs = DataRefs(
            portfolio_table=self.tables[c.TABLE_PORTFOLIO],
            audit_table=self.tables[c.TABLE_AUDIT],
            session_table=self.tables[c.TABLE_SESSION],
            cache_table=self.tables[c.TABLE_CACHE],
            data_key=self.data_key,
        )

    def _table(self, settings: Settings, role: str) -> dynamodb.TableV2:
        types = c.TABLE_ATTRIBUTE_TYPES[role]
        partition, sort = c.TABLE_KEYS[role]
        retained = role in c.TABLES_RETAINED
        replica_keys = (
            {c.DR_REGION: replica_key_alias_arn(settings, "data")} if settings.dr else None
        )
        return dynamodb.TableV2(
            self,
            f"{role.capitalize()}Table",
            table_name=settings.name(role),
            partition_key=_attribute(partition, types),
            sort_key=_attribute(sort, types) if sort else None,
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(
                self.data_key, replica_key_arns=replica_keys
            ),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True,
                recovery_period_in_days=c.PITR_RECOVERY_PERIOD_DAYS,
            ),
            time_to_live_attribute=c.TABLE_TTL[role],
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=name,
                    partition_key=_attribute(index_partition, types),
                    sort_key=_attribute(index_sort, types) if index_sort else None,
                    projection_type=_PROJECTIONS[projection],
                    non_key_attributes=list(non_key) or None,
                )
                for name, index_partition, index_sort, projection, non_key in c.TABLE_INDEXES[role]
            ],
            replicas=[dynamodb.ReplicaTableProps(region=c.DR_REGION)] if settings.dr else None,
            deletion_protection=retained,
            removal_policy=cdk.RemovalPolicy.RETAIN if retained else cdk.RemovalPolicy.DESTROY,
        )


def _attribute(name: str, types: dict[str, str]) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=_ATTRIBUTE_TYPES[types[name]])
