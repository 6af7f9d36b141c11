"""Response bodies of the HTTP API, a module per router (`common`: what they share). Import
the module you need: this package imports none of them, so that a Lambda function builds
only its own routers' answers (cold start)."""
