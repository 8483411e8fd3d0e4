from tests.api.test_channels import webhooks  # noqa: F401 (a fixture: webhook servers on loopback)
