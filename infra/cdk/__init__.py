"""CDK app: filled by the infrastructure issue."""
