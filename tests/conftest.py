"""The fixtures (server, any_server, database_url, any_database_url, browser) come from Lotsa's
testing toolkit; helpers tests call are imported from `lotsa_testing` modules."""
pytest_plugins = ["lotsa_testing.pytest_plugin"]
