from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.__main__ import load_settings
from gateway.settings import GatewaySettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("GATEWAY_"):
            monkeypatch.delenv(name)


def test_missing_targets_and_key_are_refused_naming_each_env_var() -> None:
    with pytest.raises(ValidationError) as err:
        GatewaySettings(_env_file=None)
    message = str(err.value)
    for name in (
        "GATEWAY_IDENTITY_TARGET",
        "GATEWAY_PROJECTS_TARGET",
        "GATEWAY_NOTIFICATIONS_TARGET",
        "GATEWAY_PRINCIPAL_PRIVATE_KEY",
    ):
        assert name in message


def test_settings_come_from_gateway_env_vars(
    monkeypatch: pytest.MonkeyPatch, keypair: tuple[str, str]
) -> None:
    monkeypatch.setenv("GATEWAY_ENVIRONMENT", "prod")
    monkeypatch.setenv("GATEWAY_PORT", "9100")
    monkeypatch.setenv("GATEWAY_BASE_DOMAIN", "Portal.Example.com.")
    monkeypatch.setenv("GATEWAY_IDENTITY_TARGET", "identity:50051")
    monkeypatch.setenv("GATEWAY_PROJECTS_TARGET", "projects:50051")
    monkeypatch.setenv("GATEWAY_NOTIFICATIONS_TARGET", "notifications:50051")
    monkeypatch.setenv("GATEWAY_PRINCIPAL_PRIVATE_KEY", keypair[0])
    monkeypatch.setenv("GATEWAY_CSRF_KEY", "c" * 48)
    settings = GatewaySettings(_env_file=None)
    assert settings.environment == "prod"
    assert settings.port == 9100
    assert settings.base_domain == "portal.example.com"
    assert settings.identity_target == "identity:50051"
    assert settings.host == "127.0.0.1"
    assert settings.tenant_cache_seconds == 30
    assert settings.dev_mail_url is None
    assert settings.csrf_secret == b"c" * 48


def test_a_public_key_is_not_accepted_as_the_signing_key(keypair: tuple[str, str]) -> None:
    with pytest.raises(ValidationError, match="GATEWAY_PRINCIPAL_PRIVATE_KEY"):
        GatewaySettings(
            _env_file=None,
            identity_target="a:1",
            projects_target="b:1",
            notifications_target="c:1",
            principal_private_key=keypair[1],
        )


def test_starting_without_settings_exits_with_a_readable_reason() -> None:
    with pytest.raises(SystemExit) as exit_:
        load_settings()
    reason = str(exit_.value.code)
    assert reason.startswith("gateway: cannot start:")
    assert "GATEWAY_IDENTITY_TARGET" in reason
    assert "Value error" not in reason


@pytest.mark.parametrize(
    ("environment", "setting", "reloads"),
    [("dev", None, True), ("test", None, False), ("prod", None, False), ("dev", False, False)],
)
def test_templates_are_read_again_from_disk_in_development_only(
    keypair: tuple[str, str], environment: str, setting: bool | None, reloads: bool
) -> None:
    from gateway.pages.formatting import build_templates

    settings = GatewaySettings(
        _env_file=None,
        environment=environment,
        identity_target="identity:50051",
        projects_target="projects:50051",
        notifications_target="notifications:50051",
        principal_private_key=keypair[0],
        csrf_key="k" * 32,
        reload_templates=setting,
    )
    assert settings.templates_reload is reloads
    env = build_templates(auto_reload=settings.templates_reload).env
    assert env.auto_reload is reloads
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"  # still autoescaped
