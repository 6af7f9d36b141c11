"""Deployment settings, read from CDK context (`cdk.json` or `cdk synth -c key=value`).

| context key          | default          | meaning                                              |
|----------------------|------------------|------------------------------------------------------|
| `stage`              | `prod`           | deployment name; `prod` resources carry the bare     |
|                      |                  | `portfoliowise` prefix (the code's default names)    |
| `region`             | `us-west-2`      | primary region (seed §1; any region of               |
|                      |                  | `constants.AZ_SUFFIXES`, e.g. `ap-northeast-1`)      |
| `natMode`            | `single`         | `per-az` (seed §2), `single` or `none`, see below    |
| `interfaceEndpoints` | `false`          | interface endpoints (constants.                      |
|                      |                  | INTERFACE_ENDPOINT_SERVICES) in the data subnets;    |
|                      |                  | with `natMode=none` they also decide whether any     |
|                      |                  | function runs in the VPC (see below)                 |
| `dr`                 | `false`          | us-east-1 replicas, backup replication, failover     |
| `standby`            | `false`          | the DR-region deployment: imports the replica tables,|
|                      |                  | keys and backups bucket instead of creating them     |
| `standbySecretArns`  | —                | with `standby`: the replica secrets' complete ARNs,  |
|                      |                  | `{"google-client-secret": "arn:…", …}` (DR.md)       |
| `domainName`         | —                | with `dr`: Route 53 failover records for             |
| `hostedZoneId`       | —                | `api.<domainName>` in this hosted zone               |
| `drStandbyApiHost`   | —                | with `dr` + domain: the standby API's host name      |
| `alarmEmail`         | —                | e-mail subscription of the alert topics              |
| `allowedOrigins`     | `[]`             | CORS origins of the single-page app (list or "a,b")  |

NAT mode, the trade-off: the seed draws one NAT gateway per AZ (`per-az`): highest
availability of outbound internet, but three gateways cost about $99/month in us-west-2
($135 in Tokyo) before any traffic, several times the seed's $25/month total (`make cost`).
`single` (the default) keeps every function able to reach Google, OpenAI and the market
sources for about a third of that; if its AZ fails, only outbound internet calls fail
(DynamoDB and S3 use gateway endpoints in every AZ). `none` has no NAT gateway, and is the
cheapest mode only without interface endpoints (8 endpoints in 3 AZs cost about $175/month,
`make cost`):

- `none` (default `interfaceEndpoints=false`): every function runs outside the VPC (no
  ENIs, no interface endpoints). The functions reach the AWS APIs (DynamoDB, S3, X-Ray,
  Lambda, Secrets Manager, KMS, EventBridge, SNS, CloudWatch) and the internet over the
  Lambda service's own network, with TLS and SigV4 as always; what they may do stays scoped
  by their IAM policies (tables, buckets, keys, secrets by ARN), which is what keeps the data
  private, not the network path. The VPC itself stays (subnets, NACLs, gateway endpoints,
  flow logs: no hourly cost).
- `none` with `interfaceEndpoints=true`: the functions that call no internet host stay in
  the VPC and reach DynamoDB and S3 through the gateway endpoints and the other AWS APIs
  they call through the interface endpoints; those that call the internet
  (constants.LAMBDA_NEEDS_INTERNET) run outside the VPC.

`Settings.functions_in_vpc` is the switch; tests/infra/test_vpc_reach.py checks that in
every configuration with in-VPC functions (`per-az`, `single`, `none` + endpoints) each
in-VPC function reaches every service its IAM policy lets it call, and that plain `none`
puts no function in the VPC and creates no interface endpoint.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from constructs import Node

from infra.cdk import constants as c

_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$")
_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$"
)

# The secrets the functions read, by SecretRefs attribute: name `<prefix>/<value>`.
SECRET_NAMES = {
    "google_client_secret": "google-client-secret",
    "openai_api_key": "openai-api-key",
    "session_signing_key": "session-signing-key",
}


class SettingsError(ValueError):
    """A context value the app cannot deploy."""


@dataclass(frozen=True)
class Settings:
    stage: str = c.DEFAULT_STAGE
    region: str = c.DEFAULT_PRIMARY_REGION
    nat_mode: str = c.DEFAULT_NAT_MODE
    interface_endpoints: bool = False
    dr: bool = False
    standby: bool = False
    domain_name: str | None = None
    hosted_zone_id: str | None = None
    dr_standby_api_host: str | None = None
    alarm_email: str | None = None
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    # Our Google OAuth client id (public; the ID token's audience). Without it the auth
    # function answers `POST /auth/google` with 401 "not configured".
    google_client_id: str | None = None
    # With `standby`: the complete ARNs of the primary's replica secrets in the DR region, by
    # name (SECRET_NAMES values); without, the standby creates secrets of its own.
    standby_secret_arns: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not _STAGE.match(self.stage):
            raise SettingsError(
                f"stage {self.stage!r}: lower-case letters, digits and '-', starting with a "
                "letter, at most 20 characters"
            )
        if self.region not in c.AZ_SUFFIXES:
            raise SettingsError(
                f"region {self.region!r}: one of {', '.join(sorted(c.AZ_SUFFIXES))} "
                "(the AZ letters of each are in constants.AZ_SUFFIXES)"
            )
        if self.standby and (self.dr or self.region != c.DR_REGION):
            raise SettingsError(
                f"standby: the standby runs in the DR region (region={c.DR_REGION}) and does "
                "not replicate itself (dr=false)"
            )
        if self.region == c.DR_REGION and self.dr:
            raise SettingsError(f"dr: the primary region cannot be the DR region {c.DR_REGION}")
        if self.standby_secret_arns:
            arns = dict(self.standby_secret_arns)
            if not self.standby:
                raise SettingsError("standbySecretArns: only with standby=true")
            if set(arns) != set(SECRET_NAMES.values()):
                raise SettingsError(
                    f"standbySecretArns: one ARN for each of {', '.join(SECRET_NAMES.values())}"
                )
            for name, arn in arns.items():
                if not _SECRET_ARN.match(arn) or f":{c.DR_REGION}:" not in arn:
                    raise SettingsError(
                        f"standbySecretArns: {name}: {arn!r} is not the complete ARN of a "
                        f"secret in {c.DR_REGION} (…:secret:<name>-<6 characters>)"
                    )
        if self.nat_mode not in c.NAT_MODES:
            raise SettingsError(f"natMode {self.nat_mode!r}: one of {', '.join(c.NAT_MODES)}")
        if self.domain_name is not None and not _DOMAIN.match(self.domain_name):
            raise SettingsError(f"domainName {self.domain_name!r} is not a domain name")
        if self.hosted_zone_id is not None and not _ZONE_ID.match(self.hosted_zone_id):
            raise SettingsError(f"hostedZoneId {self.hosted_zone_id!r} is not a zone id")
        if self.dr and self.domain_name is not None and self.hosted_zone_id is None:
            raise SettingsError("dr with domainName needs hostedZoneId (the domain's zone)")
        if self.dr_standby_api_host is not None and not _DOMAIN.match(self.dr_standby_api_host):
            raise SettingsError(f"drStandbyApiHost {self.dr_standby_api_host!r} is not a host name")
        if self.alarm_email is not None and not _EMAIL.match(self.alarm_email):
            raise SettingsError(f"alarmEmail {self.alarm_email!r} is not an e-mail address")
        for origin in self.allowed_origins:
            if not _ORIGIN.match(origin):
                raise SettingsError(
                    f"allowedOrigins: {origin!r} is not an origin (scheme://host[:port])"
                )

    @property
    def prefix(self) -> str:
        """`portfoliowise` for the default stage, `portfoliowise-<stage>` otherwise."""
        if self.stage == c.DEFAULT_STAGE:
            return c.NAME_PREFIX
        return f"{c.NAME_PREFIX}-{self.stage}"

    def name(self, suffix: str) -> str:
        """A physical resource name: `portfoliowise[-<stage>]-<suffix>`."""
        return f"{self.prefix}-{suffix}"

    @property
    def availability_zones(self) -> list[str]:
        return [f"{self.region}{letter}" for letter in c.AZ_SUFFIXES[self.region][: c.AZ_COUNT]]

    @property
    def creates_interface_endpoints(self) -> bool:
        """Interface endpoints are created when asked for (`interfaceEndpoints`), in any NAT
        mode; `none` no longer implies them (it moves the functions out of the VPC instead)."""
        return self.interface_endpoints

    @property
    def functions_in_vpc(self) -> bool:
        """Whether any function runs in the VPC: with a NAT gateway, or with NAT mode `none`
        and the interface endpoints (without either, an in-VPC function could reach nothing
        but DynamoDB and S3, so every function runs outside the VPC)."""
        return self.nat_mode != c.NAT_MODE_NONE or self.creates_interface_endpoints

    @property
    def failover_enabled(self) -> bool:
        return self.dr and self.domain_name is not None

    @property
    def ssm_root(self) -> str:
        return f"{c.SSM_PARAMETER_ROOT}/{self.stage}"

    @classmethod
    def from_context(cls, node: Node) -> Settings:
        """The settings from `node`'s context; a bad value raises `SettingsError`."""
        return cls(
            stage=_text(node, "stage") or c.DEFAULT_STAGE,
            region=_text(node, "region") or c.DEFAULT_PRIMARY_REGION,
            nat_mode=_text(node, "natMode") or c.DEFAULT_NAT_MODE,
            interface_endpoints=_flag(node, "interfaceEndpoints"),
            dr=_flag(node, "dr"),
            standby=_flag(node, "standby"),
            domain_name=_text(node, "domainName"),
            hosted_zone_id=_text(node, "hostedZoneId"),
            dr_standby_api_host=_text(node, "drStandbyApiHost"),
            alarm_email=_text(node, "alarmEmail"),
            allowed_origins=_origins(node.try_get_context("allowedOrigins")),
            google_client_id=_text(node, "googleClientId"),
            standby_secret_arns=_secret_arns(node.try_get_context("standbySecretArns")),
        )


def _text(node: Node, key: str) -> str | None:
    value = node.try_get_context(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{key}: expected a string, got {value!r}")
    return value.strip()


def _flag(node: Node, key: str) -> bool:
    """A boolean from JSON (`true`) or from the command line (`-c dr=true`)."""
    value = node.try_get_context(key)
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise SettingsError(f"{key}: expected true or false, got {value!r}")


def _origins(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SettingsError(f"allowedOrigins: {exc}") from exc
        else:
            return tuple(part.strip() for part in text.split(",") if part.strip())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise SettingsError(f"allowedOrigins: expected a list of origins, got {value!r}")


def _secret_arns(value: Any) -> tuple[tuple[str, str], ...]:
    """`{"name": "arn", ...}` as JSON or as a JSON string (`-c standbySecretArns='{...}'`)."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"standbySecretArns: {exc}") from exc
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return tuple(sorted(value.items()))
    raise SettingsError(f"standbySecretArns: expected an object of name: ARN, got {value!r}")
