"""The PortfolioWise stack: the foundation (storage, network, data, secrets, events), then
compute, API, the analysis consumer and monitoring (which alarms on the dead-letter queues),
then the schedules and domain-event routes that join events to compute, and with DR plus a
domain the Route 53 failover records."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from infra.cdk import constants as c
from infra.cdk.components.api import Api
from infra.cdk.components.compute import Compute
from infra.cdk.components.data import Data
from infra.cdk.components.dr import Failover
from infra.cdk.components.events import (
    AnalysisConsumer,
    Events,
    add_domain_event_routes,
    add_schedules,
)
from infra.cdk.components.monitoring import Monitoring
from infra.cdk.components.network import Network
from infra.cdk.components.refs import DeadLetterQueueRefs
from infra.cdk.components.secrets import ConfigParameters, Secrets
from infra.cdk.components.storage import Storage, replica_name_for_nag, restrict_backup_writers
from infra.cdk.config import Settings


class Foundation(Construct):
    """Network, data, storage, secrets, events and the SSM configuration: everything the
    functions need before they exist."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.storage = Storage(self, "Storage", settings=settings)
        self.network = Network(
            self, "Network", settings=settings, flow_logs_bucket=self.storage.logs_bucket
        )
        self.data = Data(self, "Data", settings=settings)
        self.secrets = Secrets(self, "Secrets", settings=settings)
        self.events = Events(self, "Events", settings=settings)
        self.parameters = ConfigParameters(
            self,
            "Parameters",
            settings=settings,
            data=self.data.refs,
            storage=self.storage.refs,
            events=self.events.refs,
        )


class PortfolioWiseStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        foundation = Foundation(self, "Foundation", settings=settings)
        self.foundation = foundation

        self.compute = Compute(
            self,
            "Compute",
            settings=settings,
            network=foundation.network.refs,
            data=foundation.data.refs,
            storage=foundation.storage.refs,
            secrets=foundation.secrets.refs,
            events=foundation.events.refs,
        )
        compute_refs = self.compute.refs
        self.api = Api(
            self, "Api", settings=settings, compute=compute_refs, storage=foundation.storage.refs
        )
        # Before monitoring, which alarms on its dead-letter queue as on the rules'.
        self.analysis_consumer = AnalysisConsumer(
            self,
            "AnalysisConsumer",
            events_=foundation.events,
            function=self.compute.functions["analysis"],
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            settings=settings,
            compute=compute_refs,
            api=self.api.refs,
            data=foundation.data.refs,
            dead_letter_queues=DeadLetterQueueRefs(
                events=foundation.events.dead_letter_queue,
                analysis=self.analysis_consumer.dead_letter_queue,
            ),
        )
        # The auth and portfolio functions publish their signals to the info topic.
        self.compute.publish_signals(self.monitoring.topics.info, self.monitoring.topic_key)

        # Only the functions that write backups may write to the backups bucket (seed §4).
        writers = [compute_refs.functions[name].role for name in ("portfolio", "scheduled")]
        restrict_backup_writers(
            foundation.storage.backups_bucket, [role for role in writers if role is not None]
        )

        if settings.standby:
            self._acknowledge_replica_object_grants(settings)

        scheduled = compute_refs.functions["scheduled"]
        self.schedules = add_schedules(self, foundation.events, scheduled)
        self.routes = add_domain_event_routes(
            self, foundation.events, {"portfolio-changed": scheduled}
        )

        self.failover: Failover | None = None
        if settings.failover_enabled:
            self.failover = Failover(
                self, "Failover", settings=settings, rest_api=self.api.refs.rest_api
            )

    def _acknowledge_replica_object_grants(self, settings: Settings) -> None:
        """In the standby the backups bucket is the imported replica, whose ARN is a name, not
        a resource of this stack: the compute construct acknowledges its per-prefix object
        grants by logical id only, so the same grants are acknowledged here by name."""
        bucket = f"arn:<AWS::Partition>:s3:::{replica_name_for_nag(settings)}"
        writers = {
            "portfolio": c.BACKUP_PREFIXES_WRITTEN_BY_PORTFOLIO,
            "scheduled": c.BACKUP_PREFIXES_WRITTEN_BY_SCHEDULED,
        }
        for name, prefixes in writers.items():
            role = self.compute.refs.functions[name].role
            assert role is not None
            for prefix in prefixes:
                cdk.Validations.of(role).acknowledge(
                    cdk.Acknowledgment(
                        id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{bucket}/{prefix}*]",
                        reason=f"Objects under '{prefix}' of the backups replica bucket (the "
                        "standby's backups bucket): object keys are made at run time, so the "
                        "object ARN needs a key wildcard; the actions are explicit.",
                    )
                )
