from services.chassis.settings import ServiceSettings, service_config


class IdentitySettings(ServiceSettings):
    model_config = service_config("IDENTITY_")
