"""The CDK app (infra/cdk); nothing in the product imports it."""
